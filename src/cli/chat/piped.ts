import readline from "node:readline";
import type {ChatTurn} from "../../generator/textGenerator.js";
import type {ChatConversation} from "../../generator/textGenerator.js";
import type {SamplingOptions} from "../../generator/sampling.js";
import {ExitCode, UsageError} from "../../errors.js";
import {incompleteOutput} from "../flags/outputConstraint.js";
import {readPrompt} from "../readPrompt.js";
import {withoutLeadingBom} from "../../textFile.js";
import {writeOut} from "../ui/stdout.js";
import {logError, logLine} from "../ui/terminal.js";
import {contextNotes, formatTimings, turnJson} from "./turnReport.js";

export type PipedOptions = {
    sampling: SamplingOptions,
    json: boolean,
    verbose: boolean,
    /** --lines: each line of stdin is the next user turn of one conversation. */
    lines: boolean,
    signal: AbortSignal
};

/** All of stdin as one message, read before the model loads so empty input fails fast. */
export async function readPipedMessage(): Promise<string> {
    const message = await readPrompt("-");
    if (message.trim() === "")
        throw new UsageError("Nothing to answer: stdin was empty.", {hint: "Pipe a question: echo \"Why is the sky blue?\" | mixtral chat -m model.gguf"});
    return message;
}

/**
 * Chat for scripts: stdin is the user's side, stdout gets only the answers (one a line, or one JSON
 * object a line with --json). No prompt, colour or spinner reaches stdout. `message` is the single
 * message; without it (--lines) each line of stdin is the next turn.
 */
export async function runPiped(session: ChatConversation, message: string | undefined, options: PipedOptions): Promise<void> {
    if (message != null) {
        await answer(session, message, options);
        return;
    }
    const lines = readline.createInterface({input: process.stdin, crlfDelay: Infinity, terminal: false});
    // Ctrl+C while waiting for the next line ends the conversation, as it does during an answer.
    const stopReading = () => lines.close();
    options.signal.addEventListener("abort", stopReading, {once: true});
    let turns = 0;
    let lineNumber = 0;
    for await (const read of lines) {
        lineNumber++;
        const line = lineNumber === 1 ? withoutLeadingBom(read) : read;
        if (line.trim() === "") continue;
        turns++;
        if (!await answerOrReport(session, line, options, lineNumber)) break;
    }
    options.signal.removeEventListener("abort", stopReading);
    if (options.signal.aborted) {
        process.exitCode = ExitCode.interrupted;
        return;
    }
    if (turns === 0)
        throw new UsageError("Nothing to answer: stdin had no lines.", {hint: "With --lines, each line of stdin is one message."});
}

/**
 * With --lines one message that cannot be answered (longer than the context) is reported, and the
 * conversation goes on with the next line; the exit code still says something failed.
 */
async function answerOrReport(session: ChatConversation, message: string, options: PipedOptions, line: number): Promise<boolean> {
    try {
        return await answer(session, message, options, line);
    } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        logError(error.message, error.hint);
        process.exitCode = error.exitCode;
        return true;
    }
}

/**
 * One turn; false when Ctrl+C stopped it (the rest of the input is not answered). With --lines,
 * --json objects start with the stdin line number and the prompt, as `complete --lines --json`'s do.
 */
async function answer(session: ChatConversation, message: string, options: PipedOptions, line?: number): Promise<boolean> {
    // Constrained answers are printed whole once complete, never half an object.
    const constrained = options.sampling.grammar != null;
    const turn: ChatTurn = await session.send(message, options.sampling, {
        signal: options.signal,
        onText: options.json || constrained ? undefined : writeOut
    });
    if (!options.json && constrained && turn.complete !== false) writeOut(turn.content);
    writeOut(options.json ? JSON.stringify({...(line == null ? {} : {line, prompt: message}), ...turnJson(turn)}) + "\n" : "\n");
    for (const note of contextNotes(turn)) logLine(`note: ${note}.`);
    if (options.verbose) logLine(formatTimings(turn));
    const cut = incompleteOutput(turn, options.sampling.grammar);
    if (cut != null) throw cut;
    if (turn.stopReason !== "abort") return true;
    process.exitCode = ExitCode.interrupted;
    return false;
}
