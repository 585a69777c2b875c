import {expandHome, thisSystem, type UserSystem} from "../../userFolders.js";

/**
 * A file name typed after /save or /load, read as a shell would read one word: surrounding quotes
 * are dropped (so a path may hold spaces), and a leading `~` is the home folder as in every path
 * flag (userFolders.ts's expandHome: `~\` too on Windows). `~user` is left as typed.
 */
export function fileArgument(argument: string, system: Pick<UserSystem, "env" | "platform"> = thisSystem()): string {
    let file = argument.trim();
    const quote = file[0];
    if ((quote === '"' || quote === "'") && file.length >= 2 && file.endsWith(quote)) file = file.slice(1, -1);
    return expandHome(file, system);
}
