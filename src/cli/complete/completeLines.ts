import readline from "node:readline";
import type {GrammarSpec} from "../../generator/sampling.js";
import type {GenerationResult} from "../../generator/result.js";
import {CutOffError, ExitCode, UsageError} from "../../errors.js";
import {withoutLeadingBom} from "../../textFile.js";
import {logprobsOption} from "../flags/logprobsFlag.js";
import {samplingFrom} from "../flags/samplingFlags.js";
import {interruptController} from "../interrupt.js";
import {openGenerator} from "../openGenerator.js";
import {incompleteOutput, responseFormatOf} from "../flags/outputConstraint.js";
import {roundForJson, writeOut} from "../ui/stdout.js";
import {logLine} from "../ui/terminal.js";
import type {SamplingFlags} from "../flags/samplingFlags.js";
import type {GeneratorFlags} from "../openGenerator.js";
import type {OutputConstraintFlags} from "../flags/outputConstraint.js";

/** The parsed flags of `complete` (this file holds its --lines mode). */
export type CompleteOptions = GeneratorFlags & SamplingFlags & OutputConstraintFlags & {
    json?: boolean,
    /** With --json: each token's logprob and this many most likely alternatives. */
    logprobs?: number,
    /** --raw: the text exactly as generated, no newline added at the end. */
    raw?: boolean,
    /** complete --lines: each stdin line is a prompt. */
    lines?: boolean,
    parallel?: number
};

type Prompt = {line: number, prompt: string};

/**
 * `complete --lines`: every line of stdin is a prompt, all answered with one model load; one answer a
 * line on stdout in input order (newlines inside it written as \n), or one JSON object a line.
 * Empty lines are skipped (and counted on stderr). Ctrl+C prints the answers already finished and exits 130.
 * With --parallel n, up to n prompts decode together in one context (the server's batch scheduler), or
 * n requests run at a time against a server (--endpoint, or a `mixtral serve` of the same file).
 */
export async function runCompleteLines(promptArgument: string | undefined, options: CompleteOptions, grammar: GrammarSpec | undefined) {
    if (promptArgument != null && promptArgument !== "-")
        throw new UsageError("--lines reads the prompts from stdin, one a line; drop the prompt argument.");
    const logprobs = logprobsOption(options);
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
            if (withoutLeadingBom(next.value).trim() === "") skipped++;
            else return {line: lineNumber, prompt: lineNumber === 1 ? withoutLeadingBom(next.value) : next.value};
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
        // The engine here (n sequences of one context), or a server (n requests at a time).
        const generator = await openGenerator(options, interrupt.signal, {grammar: grammar != null, responseFormat: await responseFormatOf(options), parallel,
            use: {kind: "complete", maxTokens: options.maxTokens}});
        try {
            const sampling = {...samplingFrom(options, grammar), ...logprobs};
            let answered = 0;
            let firstCut: {line: number, error: CutOffError} | undefined;
            const started = performance.now();
            let generatedTokens = 0;
            // The prompts handed to the generator and not answered yet, in order.
            const waiting: Prompt[] = [];
            async function* prompts(): AsyncGenerator<string> {
                for (let prompt: Prompt | undefined = first; prompt != null; prompt = await nextPrompt()) {
                    waiting.push(prompt);
                    yield prompt.prompt;
                }
            }
            let interrupted = false;
            for await (const result of generator.completeEach(prompts(), sampling, {signal: interrupt.signal})) {
                const prompt = waiting.shift()!;
                // Ctrl+C (or a failure): what is still running ends with "abort" and is not printed.
                if (result.stopReason === "abort") {
                    interrupted = true;
                    break;
                }
                answered++;
                generatedTokens += result.tokens.generated;
                const cut = incompleteOutput(result, grammar);
                if (cut != null) {
                    logLine(`line ${prompt.line}: ${cut.message}`);
                    firstCut ??= {line: prompt.line, error: cut};
                }
                writeOut(options.json === true ? JSON.stringify(lineJson(prompt, result)) + "\n" : `${cut == null ? oneLine(result.text) : ""}\n`);
            }
            // Ctrl+C while waiting for input stops the reading without cutting an answer: 130 all the same.
            interrupted ||= interrupt.signal.aborted;
            if (interrupted) process.exitCode = ExitCode.interrupted;
            if (skipped > 0) logLine(`note: ${skipped} empty line${skipped === 1 ? " was" : "s were"} skipped.`);
            if (options.verbose === true) {
                const seconds = (performance.now() - started) / 1000;
                const {info} = generator;
                logLine(`${answered} prompts in ${seconds.toFixed(2)} s, ${(generatedTokens / seconds).toFixed(1)} generated tok/s overall ` +
                    `(${info.endpoint ?? `${info.backend}, ${info.threads} threads`}, ${parallel} at a time)`);
            }
            if (firstCut != null && !interrupted)
                throw new CutOffError(`line ${firstCut.line}: ${firstCut.error.message}`);
        } finally {
            await generator.dispose();
        }
    } finally {
        interrupt.signal.removeEventListener("abort", stopReading);
        input.close();
        interrupt.dispose();
    }
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
        },
        ...(result.logprobs == null ? {} : {logprobs: result.logprobs})
    };
}
