import {interruptController, stopGraceMs} from "../interrupt.js";
import {openGenerator} from "../openGenerator.js";
import {readOutputConstraint, responseFormatOf} from "../flags/outputConstraint.js";
import {describeLoaded} from "../chat/describeLoaded.js";
import {logLine, minttyNote} from "../ui/terminal.js";
import {readPipedMessage, runPiped} from "../chat/piped.js";
import {runRepl} from "../chat/repl.js";
import {loadChat} from "../chat/chatStateFile.js";
import {samplingFrom, type SamplingFlags} from "../flags/samplingFlags.js";
import type {GeneratorFlags, GeneratorNeeds} from "../openGenerator.js";
import type {OutputConstraintFlags} from "../flags/outputConstraint.js";
import type {ExpertsDial} from "../chat/replSettings.js";
import type {TextGenerator} from "../../generator/textGenerator.js";
import {checkExpertsUsed, describeExperts, type ExpertCounts} from "../../gguf/expertsUsed.js";
import {parseExperts} from "../flags/expertsFlag.js";
import {UsageError} from "../../errors.js";

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
    const needs: GeneratorNeeds = {grammar: grammar != null, responseFormat: await responseFormatOf(options), use: {kind: "chat"}};
    try {
        // The engine here, or a server (--endpoint, or a `mixtral serve` of the same file).
        let generator = await openGenerator(options, interrupt.signal, needs);
        try {
            const prepare = async (current: TextGenerator) => {
                const templateNote = await current.prepareChat?.({
                    signal: interrupt.signal,
                    onProbe: options.verbose === true ? () => logLine("trying the model's chat template…") : undefined
                });
                if (templateNote != null) logLine(`note: ${templateNote}.`);
            };
            await prepare(generator);
            const session = generator.startChat({system: options.system});
            // What was loaded, as Ollama and llama.cpp say it: always in the REPL, piped only with --verbose.
            if (interactive || options.verbose === true) logLine(describeLoaded(generator.info, session.contextSize));
            if (options.verbose === true) logLine(`prompt format: ${session.format.description}`);
            if (options.resume != null) logLine(`(${await loadChat(options.resume, session)})`);
            const sampling = samplingFrom(options, grammar);
            const common = {sampling, json: options.json === true, verbose: options.verbose === true};
            // /set experts: the same flags with another --experts, loaded here (never through a server).
            const open = (n: number) => openGenerator({...options, experts: n, server: false}, interrupt.signal, needs);
            const experts: ExpertsDial | undefined = generator.info.experts == null ? undefined : {
                current: () => generator.info.experts == null ? "(unknown)" : describeExperts(generator.info.experts),
                set: async (value, conversation) => {
                    const before = generator.info.experts!;
                    const n = checkedExperts(generator.info.model, before, value);
                    if (n === before.used) return {note: `(each token already uses ${n} experts; nothing to reload)`};
                    // llama.cpp reads the count at load. Both models at once would need twice the RAM: the old one goes first.
                    await generator.dispose();
                    let failure: unknown;
                    try {
                        generator = await open(n);
                    } catch (error) {
                        // Back to the model as it was, so the conversation goes on; the failure is still reported.
                        failure = error;
                        generator = await open(before.used);
                    }
                    await prepare(generator);
                    const next = generator.startChat({system: conversation.systemPrompt});
                    next.replace(conversation.systemPrompt, conversation.history);
                    if (failure != null) return {session: next, failure, note: `(the model is back to ${describeExperts(generator.info.experts!)})`};
                    return {session: next, note: `(reloaded: each token now uses ${describeExperts(generator.info.experts!)}; the conversation is evaluated again with the next message)`};
                }
            };
            if (interactive)
                process.exitCode = await runRepl(session, {...common, history: options.history, nextAnswerSignal: () => interrupt.reset(), experts});
            else
                await runPiped(session, pipedMessage, {...common, lines: options.lines === true, signal: interrupt.reset()});
        } finally {
            await generator.dispose();
        }
    } finally {
        interrupt.dispose();
    }
}

/** /set experts <n>: a whole number within the file's range, or one sentence (the model in use stays). */
function checkedExperts(model: string, counts: ExpertCounts, value: string): number {
    let n: number;
    try {
        n = parseExperts(value);
    } catch (error) {
        throw new UsageError(`/set experts ${value}: ${(error as Error).message}`);
    }
    return checkExpertsUsed(model, counts, n).used;
}
