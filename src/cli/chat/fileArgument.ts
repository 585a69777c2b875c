import os from "node:os";
import path from "node:path";

/**
 * A file name typed after /save or /load, read as a shell would read one word: surrounding quotes
 * are dropped (so a path may hold spaces), and a leading `~` or `~/` is the home folder. `~user` is
 * left as typed.
 */
export function fileArgument(argument: string, home = os.homedir()): string {
    let file = argument.trim();
    const quote = file[0];
    if ((quote === '"' || quote === "'") && file.length >= 2 && file.endsWith(quote)) file = file.slice(1, -1);
    if (file === "~") return home;
    if (file.startsWith("~/")) return path.join(home, file.slice(2));
    return file;
}
