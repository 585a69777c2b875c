import {fileArgument} from "./fileArgument.js";
import {settingNames} from "./replSettings.js";

export type SlashCommand =
    | {name: "help" | "reset" | "retry" | "undo" | "stats" | "exit" | "show"}
    | {name: "set", key: string, value: string}
    | {name: "system", text: string}
    | {name: "save" | "load", file: string}
    | {name: "usage", usage: string}
    | {name: "unknown", text: string};

export const slashHelp = [
    "/help              this list",
    "/reset             start over (keeps the system text)",
    "/system <text>     set the system text (Mixtral folds it into the first message); /system alone shows it",
    "/retry             generate the last answer again",
    "/undo              drop the last exchange",
    "/save <file>       save the conversation as JSON, and its KV state beside it (talk.json → talk.kvstate)",
    "/load <file>       load a conversation saved with /save (its KV state too, when model and context match)",
    "/stats             tokens, context used, speed, time to first token",
    `/set <name> <v>    change ${settingNames.slice(0, -1).join(", ")} or experts (reloads the model); /set stop adds one, alone clears them`,
    "/show              the current settings",
    "/exit, /bye        leave (also Ctrl+D, or Ctrl+C on an empty prompt); /? is /help",
    "",
    "End a line with \\ to continue it, or wrap a long message in \"\"\" lines.",
    "Pasted lines wait for Enter. Ctrl+C stops an answer. Start with // to send a message that begins with /."
].join("\n");

/** Parses a line typed at the prompt; undefined when it is a message for the model. */
export function parseSlashCommand(line: string): SlashCommand | undefined {
    const trimmed = line.trim();
    if (!trimmed.startsWith("/") || trimmed.startsWith("//")) return undefined;
    const space = trimmed.search(/\s/);
    const name = (space < 0 ? trimmed : trimmed.slice(0, space)).slice(1).toLowerCase();
    const argument = space < 0 ? "" : trimmed.slice(space + 1).trim();
    switch (name) {
        case "help": case "reset": case "retry": case "undo": case "stats": case "exit": case "show":
            return {name};
        case "?":
            return {name: "help"};
        case "quit": case "q": case "bye":
            return {name: "exit"};
        case "set": {
            if (argument === "") return {name: "usage", usage: `/set <${settingNames.join("|")}> <value>`};
            const gap = argument.search(/\s/);
            return {name: "set", key: gap < 0 ? argument : argument.slice(0, gap), value: gap < 0 ? "" : argument.slice(gap + 1).trim()};
        }
        case "system":
            return {name: "system", text: argument};
        case "save": case "load":
            return argument === "" ? {name: "usage", usage: `/${name} <file>`} : {name, file: fileArgument(argument)};
        default:
            return {name: "unknown", text: trimmed};
    }
}

/** `//text` sends `/text`. */
export function unescapeMessage(line: string): string {
    return line.trimStart().startsWith("//") ? line.trimStart().slice(1) : line;
}
