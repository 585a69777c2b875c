import {UsageError} from "../errors.js";
import {decodeText} from "../textFile.js";

/**
 * The prompt comes from the argument, or from stdin when it is piped (or the argument is `-`).
 * One trailing newline from stdin is the shell's, not the user's, and is dropped. A file piped by
 * cmd's `type` keeps the byte-order mark a Windows editor wrote (or is UTF-16): decoded as a file is.
 */
export async function readPrompt(argument: string | undefined, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
    if (argument != null && argument !== "-") return argument;
    if (argument == null && stdin.isTTY === true)
        throw new UsageError("No prompt given.", {hint: "Pass it as an argument (mixtral complete \"Once upon a time\") or pipe it on stdin."});
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    return stripOneTrailingNewline(decodeText(Buffer.concat(chunks)));
}

function stripOneTrailingNewline(text: string): string {
    if (text.endsWith("\r\n")) return text.slice(0, -2);
    if (text.endsWith("\n")) return text.slice(0, -1);
    return text;
}
