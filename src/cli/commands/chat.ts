import {ChatSession} from "../../engine/chatSession.js";
import {interruptController} from "../interrupt.js";
import {resolveAndLoadModel} from "../loadModelWithProgress.js";
import {readOutputConstraint} from "../outputConstraint.js";
import {logLine} from "../ui/terminal.js";
import {readPipedMessage, runPiped} from "../chat/piped.js";
import {runRepl} from "../chat/repl.js";
import {loadChat, stateIdentityOf} from "../chat/chatStateFile.js";
import {samplingFrom, type CompleteOptions} from "./complete.js";

export type ChatOptions = CompleteOptions & {
    system?: string,
    lines?: boolean,
    /** --no-history sets this to false. */
    history: boolean,
    /** --resume <file>: start from a conversation saved with /save (with its KV state when it matches). */
    resume?: string
};

/** `mixtral chat`: a REPL when stdin is a terminal, one answer (or one a line with --lines) when piped. */
export async function runChat(options: ChatOptions) {
    const interactive = process.stdin.isTTY === true;
    const grammar = await readOutputConstraint(options);
    const pipedMessage = interactive || options.lines === true ? undefined : await readPipedMessage();
    const interrupt = interruptController();
    try {
        const loaded = await resolveAndLoadModel(options, interrupt.signal);
        try {
            const session = new ChatSession(loaded.sequence, {system: options.system});
            if (options.verbose === true)
                logLine(`${loaded.file.path}: ${session.format.description}; ${loaded.contextSize}-token context ` +
                    `(${loaded.kvCache.typeK}/${loaded.kvCache.typeV} KV cache, flash attention ${loaded.kvCache.flashAttention}), ${loaded.backend}, ${loaded.threads} threads`);
            const stateIdentity = await stateIdentityOf(loaded);
            if (options.resume != null) logLine(`(${await loadChat(options.resume, session, stateIdentity)})`);
            const sampling = samplingFrom(options, grammar);
            const common = {sampling, json: options.json === true, verbose: options.verbose === true};
            if (interactive)
                process.exitCode = await runRepl(session, {...common, history: options.history, nextAnswerSignal: () => interrupt.reset(), stateIdentity});
            else
                await runPiped(session, pipedMessage, {...common, lines: options.lines === true, signal: interrupt.reset()});
        } finally {
            await loaded.dispose();
        }
    } finally {
        interrupt.dispose();
    }
}
