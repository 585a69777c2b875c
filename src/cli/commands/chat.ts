import {interruptController, stopGraceMs} from "../interrupt.js";
import {openGenerator} from "../openGenerator.js";
import {readOutputConstraint, responseFormatOf} from "../flags/outputConstraint.js";
import {describeLoaded} from "../chat/describeLoaded.js";
import {logLine, minttyNote} from "../ui/terminal.js";
import {readPipedMessage, runPiped} from "../chat/piped.js";
import {runRepl} from "../chat/repl.js";
import {loadChat} from "../chat/chatStateFile.js";
import {samplingFrom, type SamplingFlags} from "../flags/samplingFlags.js";
import type {GeneratorFlags} from "../openGenerator.js";
import type {OutputConstraintFlags} from "../flags/outputConstraint.js";

export type ChatOptions = GeneratorFlags & SamplingFlags & OutputConstraintFlags & {
    json?: boolean,
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
    const mintty = minttyNote(interactive);
    if (mintty != null && options.lines !== true) logLine(mintty);
    const pipedMessage = interactive || options.lines === true ? undefined : await readPipedMessage();
    // The REPL keeps the conversation through a slow stop (a second Ctrl+C quits); piped, nothing waits.
    const interrupt = interruptController({graceMs: interactive ? undefined : stopGraceMs});
    try {
        // The engine here, or a server (--endpoint, or a `mixtral serve` of the same file).
        const generator = await openGenerator(options, interrupt.signal, {grammar: grammar != null, responseFormat: await responseFormatOf(options)});
        try {
            const templateNote = await generator.prepareChat?.({
                signal: interrupt.signal,
                onProbe: options.verbose === true ? () => logLine("trying the model's chat template…") : undefined
            });
            if (templateNote != null) logLine(`note: ${templateNote}.`);
            const session = generator.startChat({system: options.system});
            // What was loaded, as Ollama and llama.cpp say it: always in the REPL, piped only with --verbose.
            if (interactive || options.verbose === true) logLine(describeLoaded(generator.info, session.contextSize));
            if (options.verbose === true) logLine(`prompt format: ${session.format.description}`);
            if (options.resume != null) logLine(`(${await loadChat(options.resume, session)})`);
            const sampling = samplingFrom(options, grammar);
            const common = {sampling, json: options.json === true, verbose: options.verbose === true};
            if (interactive)
                process.exitCode = await runRepl(session, {...common, history: options.history, nextAnswerSignal: () => interrupt.reset()});
            else
                await runPiped(session, pipedMessage, {...common, lines: options.lines === true, signal: interrupt.reset()});
        } finally {
            await generator.dispose();
        }
    } finally {
        interrupt.dispose();
    }
}
