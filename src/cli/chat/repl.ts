import readline from "node:readline";
import type {ChatTurn} from "../../generator/textGenerator.js";
import type {ChatConversation} from "../../generator/textGenerator.js";
import type {SamplingOptions} from "../../generator/sampling.js";
import {ExitCode, MixtralError} from "../../errors.js";
import {incompleteOutput} from "../flags/outputConstraint.js";
import {writeOut} from "../ui/stdout.js";
import {logError, logLine, terminalPolicy} from "../ui/terminal.js";
import {loadChat, saveChat} from "./chatStateFile.js";
import {chatHistoryPath, historySize, readHistory, writeHistory} from "./historyFile.js";
import {AnswerKeys} from "./answerKeys.js";
import {MultilineInput} from "./multilineInput.js";
import {applySetting, formatSettings, settingKey, type ExpertsDial} from "./replSettings.js";
import {parseSlashCommand, slashHelp, unescapeMessage, type SlashCommand} from "./slashCommands.js";
import {addToTotals, contextNotes, formatStats, formatTimings, turnJson, type SessionTotals} from "./turnReport.js";

export type ReplOptions = {
    sampling: SamplingOptions,
    json: boolean,
    verbose: boolean,
    /** --no-history: neither read nor write the history file. */
    history: boolean,
    /** The signal for the next answer: the first Ctrl+C aborts it, a second one exits. */
    nextAnswerSignal: () => AbortSignal,
    /** /set experts: only with the model loaded here (a server keeps its own). */
    experts?: ExpertsDial
};

// Lines that arrive closer together than a person can press Enter are a paste.
const pasteGapMs = 15;

/**
 * The interactive chat. The prompt and everything but answers go to stderr, answers to stdout (so
 * `mixtral chat > answers.txt` works). While an answer streams, keys go to AnswerKeys: Ctrl+C is
 * the SIGINT that the interrupt controller turns into "stop this answer", nothing is echoed.
 * Resolves with the exit code: 0 for /exit and Ctrl+D, 130 for Ctrl+C twice on an empty prompt.
 */
export async function runRepl(firstSession: ChatConversation, options: ReplOptions): Promise<number> {
    // /set experts reloads the model: the conversation then lives in a new session.
    let session = firstSession;
    const colors = terminalPolicy().stderrColors;
    const historyFile = options.history ? chatHistoryPath() : undefined;
    const keypressListenersBefore = process.stdin.listeners("keypress");
    const rl = readline.createInterface({
        input: process.stdin,
        output: process.stderr,
        terminal: true,
        history: historyFile == null ? [] : await readHistory(historyFile),
        historySize: options.history ? historySize : 0,
        removeHistoryDuplicates: true
    });
    if (historyFile != null) rl.on("history", (history: string[]) => void writeHistory(historyFile, history));
    const answerKeys = new AnswerKeys(process.stdin, keypressListenersBefore);
    // readline's own list (newest first), not in its typings: a message typed over several lines
    // becomes one entry. Were a Node version to keep it elsewhere, the lines stay entries of their own.
    const readlineHistory: unknown = (rl as unknown as {history?: unknown}).history;
    const history: string[] = Array.isArray(readlineHistory) ? readlineHistory as string[] : [];
    let historyBeforeMessage: string[] = [];

    // Changed by /set for the rest of the session.
    const sampling: SamplingOptions = {...options.sampling};
    const input = new MultilineInput();
    const totals: SessionTotals = {turns: 0, promptTokens: 0, generatedTokens: 0, generateMs: 0};
    let lastTurn: ChatTurn | undefined;
    let busy = false;
    let burst: string[] = [];
    let burstTimer: NodeJS.Timeout | undefined;
    const prompt = () => {
        if (!input.pending) historyBeforeMessage = [...history];
        rl.setPrompt(input.pending ? colors.dim("... ") : colors.cyan.bold("> "));
        rl.prompt();
        answerKeys.release(rl);
    };
    /**
     * readline keeps each line of a `"""` block (or of a `\` continuation, or a paste) as an entry of
     * its own, so the up arrow brought back a lone `"""`: the lines become the one entry they made,
     * which MultilineInput reads back as the same message when it is sent again.
     */
    const rememberWholeMessage = () => {
        const entry = input.historyEntry;
        if (entry == null || !options.history) return;
        history.splice(0, history.length, ...[entry, ...historyBeforeMessage.filter((line) => line !== entry)].slice(0, historySize));
        if (historyFile != null) writeHistory(historyFile, history);
    };

    return await new Promise<number>((resolve, reject) => {
        let finished = false;
        const finish = (code: number) => {
            if (finished) return;
            finished = true;
            rl.close();
            resolve(code);
        };

        const answer = async (message: string | undefined) => {
            busy = true;
            answerKeys.hold();
            let wrote = false;
            const callbacks = {
                signal: options.nextAnswerSignal(),
                onText: options.json ? undefined : (chunk: string) => {
                    wrote = true;
                    writeOut(chunk);
                }
            };
            try {
                const turn = message == null
                    ? await session.retry(sampling, callbacks)
                    : await session.send(message, sampling, callbacks);
                // What was written is the answer's content, so its end is the content's end.
                if (wrote && !turn.content.endsWith("\n")) writeOut("\n");
                if (options.json) writeOut(JSON.stringify(turnJson(turn)) + "\n");
                reportTurn(turn);
            } catch (error) {
                if (!(error instanceof MixtralError)) throw error;
                if (wrote) writeOut("\n");
                logError(error.message, error.hint);
            } finally {
                // The keys pressed meanwhile go to readline at the next prompt.
                busy = false;
            }
        };

        const reportTurn = (turn: ChatTurn) => {
            lastTurn = turn;
            addToTotals(totals, turn);
            for (const note of contextNotes(turn)) logLine(colors.yellow(`(${note})`));
            // A constrained answer cut short stays in the conversation; the user should know it does not parse.
            const cut = incompleteOutput(turn, options.sampling.grammar);
            if (cut != null) logLine(colors.yellow(`(${cut.message})`));
            if (turn.stopReason === "abort") logLine(colors.dim("(stopped)"));
            if (options.verbose) logLine(colors.dim(formatTimings(turn)));
        };

        const runCommand = async (command: SlashCommand) => {
            switch (command.name) {
                case "help":
                    logLine(slashHelp);
                    break;
                case "exit":
                    finish(ExitCode.ok);
                    break;
                case "reset":
                    session.reset();
                    logLine(colors.dim("(conversation cleared)"));
                    break;
                case "system":
                    if (command.text === "") {
                        logLine(session.systemPrompt == null ? "No system text; /system <text> sets one." : `System: ${session.systemPrompt}`);
                        break;
                    }
                    session.setSystem(command.text);
                    logLine(colors.dim("(system text set; it opens the conversation from the next answer on)"));
                    break;
                case "retry":
                    if (session.history.length === 0) logLine("Nothing to retry yet.");
                    else await answer(undefined);
                    break;
                case "undo":
                    logLine(session.undo() ? colors.dim("(dropped the last exchange)") : "Nothing to undo.");
                    break;
                case "save":
                    logLine(colors.dim(`(${await saveChat(command.file, session)})`));
                    break;
                case "load":
                    logLine(colors.dim(`(${await loadChat(command.file, session)})`));
                    break;
                case "stats":
                    logLine(formatStats({
                        messages: session.history.length,
                        contextUsed: session.contextUsed,
                        contextSize: session.contextSize,
                        format: session.format.description,
                        last: lastTurn,
                        totals
                    }));
                    break;
                case "set":
                    if (settingKey(command.key) === "experts") {
                        if (options.experts == null) {
                            logLine("/set experts needs the model loaded here: a server routes tokens with the experts it was started with.");
                            break;
                        }
                        const changed = await options.experts.set(command.value, session);
                        if (changed.session != null) session = changed.session;
                        // The reload failed and the model as it was is back: the failure, then where things stand.
                        if (changed.failure instanceof MixtralError) logError(changed.failure.message, changed.failure.hint);
                        else if (changed.failure != null) throw changed.failure;
                        logLine(colors.dim(changed.note));
                        break;
                    }
                    logLine(colors.dim(applySetting({sampling, setSystem: (text) => session.setSystem(text)}, command.key, command.value)));
                    break;
                case "show":
                    logLine(formatSettings(sampling, session.systemPrompt, options.experts?.current()));
                    break;
                case "usage":
                    logLine(`Usage: ${command.usage}`);
                    break;
                case "unknown":
                    logLine(`Unknown command ${command.text.split(/\s/)[0]}; /help lists the commands.`);
                    break;
            }
        };

        const handleMessage = async (message: string) => {
            const command = message.includes("\n") ? undefined : parseSlashCommand(message);
            try {
                if (command != null) await runCommand(command);
                else if (message.trim() !== "") await answer(unescapeMessage(message));
            } catch (error) {
                if (!(error instanceof MixtralError)) throw error;
                logError(error.message, error.hint);
            }
        };

        const flushBurst = () => {
            const lines = burst;
            burst = [];
            if (lines.length > 1) {
                // A paste: keep it all and let the user look it over, add to it and press Enter.
                for (const line of lines) input.hold(line);
                prompt();
                return;
            }
            const message = input.push(lines[0] ?? "");
            if (message == null) {
                prompt();
                return;
            }
            rememberWholeMessage();
            handleMessage(message).then(() => {
                if (!finished) prompt();
            }, (error: unknown) => {
                finished = true;
                rl.close();
                reject(error);
            });
        };

        rl.on("line", (line: string) => {
            if (busy || finished) return;
            burst.push(line);
            clearTimeout(burstTimer);
            burstTimer = setTimeout(flushBurst, pasteGapMs);
        });
        // Ctrl+C on an empty prompt asks first (as Node's and Python's REPLs do): one landing just
        // after an answer ends would otherwise lose the conversation. Any other key disarms it.
        let leaveOnCtrlC = false;
        process.stdin.on("keypress", (_text: string | undefined, key: {ctrl?: boolean, name?: string} | undefined) => {
            if (key?.ctrl !== true || key.name !== "c") leaveOnCtrlC = false;
        });
        rl.on("SIGINT", () => {
            // Ctrl+C at the prompt: drop the line being typed, or (pressed twice) leave when there is none.
            if (rl.line === "" && !input.pending) {
                if (leaveOnCtrlC) {
                    process.stderr.write("\n");
                    finish(ExitCode.interrupted);
                    return;
                }
                leaveOnCtrlC = true;
                process.stderr.write("^C\n");
                logLine(colors.dim("(press Ctrl+C again or Ctrl+D to leave)"));
                prompt();
                return;
            }
            leaveOnCtrlC = false;
            input.cancel();
            rl.write(null, {ctrl: true, name: "e"});
            rl.write(null, {ctrl: true, name: "u"});
            process.stderr.write("^C\n");
            prompt();
        });
        rl.on("close", () => {
            // Ctrl+D (or the end of input): a normal way to leave.
            if (!finished) process.stderr.write("\n");
            finish(ExitCode.ok);
        });

        logLine(colors.dim(`Prompt format: ${session.format.description}. /help lists the commands; Ctrl+D leaves.`));
        prompt();
    });
}
