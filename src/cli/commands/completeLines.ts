import readline from "node:readline";
import {BatchScheduler} from "../../engine/batchScheduler.js";
import {generate, tokenizePrompt} from "../../engine/generate.js";
import type {OpenedModel} from "../../engine/openModel.js";
import type {GenerationResult, GrammarSpec, SamplingOptions} from "../../engine/types.js";
import {CutOffError, ExitCode, UsageError} from "../../errors.js";
import {interruptController} from "../interrupt.js";
import {resolveAndLoadModel} from "../loadModelWithProgress.js";
import {incompleteOutput} from "../outputConstraint.js";
import {roundForJson, writeOut} from "../ui/stdout.js";
import {logLine} from "../ui/terminal.js";
import {samplingFrom, type CompleteOptions} from "./complete.js";

type Prompt = {line: number, prompt: string};

/** Runs one prompt from a fresh context: the answer is the one `complete` gives that prompt alone. */
type LineRunner = {
    run(prompt: string, sampling: SamplingOptions, signal: AbortSignal): Promise<GenerationResult>,
    /** Prompts submitted ahead of the one being printed. */
    inFlight: number,
    close(): Promise<void>
};

/**
 * `complete --lines`: every line of stdin is a prompt, all answered with one model load; one answer a
 * line on stdout in input order (newlines inside it written as \n), or one JSON object a line.
 * Empty lines are skipped (and counted on stderr). Ctrl+C prints the answers already finished and exits 130.
 * With --parallel n, up to n prompts decode together in one context (the server's batch scheduler).
 */
export async function runCompleteLines(promptArgument: string | undefined, options: CompleteOptions, grammar: GrammarSpec | undefined) {
    if (promptArgument != null && promptArgument !== "-")
        throw new UsageError("--lines reads the prompts from stdin, one a line; drop the prompt argument.");
    const input = readline.createInterface({input: process.stdin, crlfDelay: Infinity, terminal: false});
    const lines = input[Symbol.asyncIterator]();
    const interrupt = interruptController();
    // Ctrl+C while waiting for the next line of an open pipe: stop reading too.
    const stopReading = () => input.close();
    interrupt.signal.addEventListener("abort", stopReading);
    let lineNumber = 0;
    let skipped = 0;
    const nextPrompt = async (): Promise<Prompt | undefined> => {
        while (true) {
            const next = await lines.next();
            if (next.done === true) return undefined;
            lineNumber++;
            if (next.value.trim() === "") skipped++;
            else return {line: lineNumber, prompt: next.value};
        }
    };
    try {
        // The first prompt is read before the model loads, so empty input fails at once.
        const first = await nextPrompt();
        if (first == null) {
            if (interrupt.signal.aborted) {
                process.exitCode = ExitCode.interrupted;
                return;
            }
            throw new UsageError("Nothing to complete: stdin had no lines.", {hint: "With --lines, each line of stdin is one prompt."});
        }
        const parallel = options.parallel ?? 1;
        const loaded = await resolveAndLoadModel(options, interrupt.signal, {sequences: parallel});
        let runner: LineRunner | undefined;
        try {
            runner = parallel > 1 ? batchedRunner(loaded, parallel, options.threads != null) : sequentialRunner(loaded);
            const sampling = samplingFrom(options, grammar);
            let answered = 0;
            let firstCut: {line: number, error: CutOffError} | undefined;
            const started = performance.now();
            let generatedTokens = 0;
            // Answers print in input order; later prompts run ahead while an earlier one finishes.
            const window: {prompt: Prompt, result: Promise<GenerationResult>}[] = [];
            const printNext = async (): Promise<boolean> => {
                const {prompt, result: pending} = window.shift()!;
                const result = await pending;
                if (result.stopReason === "abort") return false;
                answered++;
                generatedTokens += result.tokens.generated;
                const cut = incompleteOutput(result, grammar);
                if (cut != null) {
                    logLine(`line ${prompt.line}: ${cut.message}`);
                    firstCut ??= {line: prompt.line, error: cut};
                }
                writeOut(options.json === true ? JSON.stringify(lineJson(prompt, result)) + "\n" : `${cut == null ? oneLine(result.text) : ""}\n`);
                return true;
            };
            let interrupted = false;
            try {
                for (let prompt: Prompt | undefined = first; prompt != null && !interrupted; prompt = await nextPrompt()) {
                    const result = runner!.run(prompt.prompt, sampling, interrupt.signal);
                    // Awaited in order below; a failure of a later one must not go unhandled meanwhile.
                    result.catch(() => {});
                    window.push({prompt, result});
                    while (window.length >= runner!.inFlight && !interrupted) interrupted = !await printNext();
                }
                while (window.length > 0 && !interrupted) interrupted = !await printNext();
            } finally {
                // Ctrl+C (or a failure): what is still running ends with "abort" and is not printed.
                if (window.length > 0) {
                    await Promise.allSettled(window.map((entry) => entry.result));
                }
            }
            // Ctrl+C while waiting for input stops the reading without cutting an answer: 130 all the same.
            interrupted ||= interrupt.signal.aborted;
            if (interrupted) process.exitCode = ExitCode.interrupted;
            if (skipped > 0) logLine(`note: ${skipped} empty line${skipped === 1 ? " was" : "s were"} skipped.`);
            if (options.verbose === true) {
                const seconds = (performance.now() - started) / 1000;
                logLine(`${answered} prompts in ${seconds.toFixed(2)} s, ${(generatedTokens / seconds).toFixed(1)} generated tok/s overall ` +
                    `(${loaded.backend}, ${loaded.threads} threads, ${parallel} at a time)`);
            }
            if (firstCut != null && !interrupted)
                throw new CutOffError(`line ${firstCut.line}: ${firstCut.error.message}`);
        } finally {
            await runner?.close();
            await loaded.dispose();
        }
    } finally {
        interrupt.signal.removeEventListener("abort", stopReading);
        input.close();
        interrupt.dispose();
    }
}

function sequentialRunner(loaded: OpenedModel): LineRunner {
    return {
        async run(prompt, sampling, signal) {
            await loaded.sequence.clearHistory();
            return generate(loaded.sequence, tokenizePrompt(loaded.sequence, prompt), sampling, {signal});
        },
        inFlight: 1,
        close: async () => {}
    };
}

/** --parallel n: the batch scheduler of `mixtral serve` on n sequences of one context (each --context-size tokens). */
function batchedRunner(loaded: OpenedModel, parallel: number, fixedThreads: boolean): LineRunner {
    const sequences = [loaded.sequence];
    while (sequences.length < parallel) sequences.push(loaded.context.getSequence());
    // The queue holds the prompts submitted ahead, never more.
    const scheduler = new BatchScheduler(loaded.context, sequences, {queueLimit: parallel * 2, fixedThreads});
    return {
        run: (prompt, sampling, signal) => scheduler.submit({promptTokens: tokenizePrompt(loaded.sequence, prompt), sampling, signal}),
        inFlight: parallel * 2,
        close: () => scheduler.close()
    };
}

/** One answer, one line: a newline inside it is written as \n (and a carriage return as \r). */
function oneLine(text: string): string {
    return text.replace(/\r/g, "\\r").replace(/\n/g, "\\n");
}

function lineJson({line, prompt}: Prompt, result: GenerationResult) {
    return {
        line,
        prompt,
        text: result.text,
        stopReason: result.stopReason,
        ...(result.complete == null ? {} : {complete: result.complete}),
        tokens: result.tokens,
        timings: {
            promptMs: roundForJson(result.timings.promptMs),
            generateMs: roundForJson(result.timings.generateMs),
            generatedTokensPerSecond: roundForJson(result.timings.generatedTokensPerSecond)
        }
    };
}
