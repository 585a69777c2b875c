import {ExitCode, UsageError} from "../../errors.js";
import {samplingFrom} from "../flags/samplingFlags.js";
import {interruptController, stopGraceMs} from "../interrupt.js";
import {openGenerator} from "../openGenerator.js";
import type {CompleteOptions} from "../complete/completeLines.js";
import {logprobsOption} from "../flags/logprobsFlag.js";
import {incompleteOutput, readOutputConstraint, responseFormatOf} from "../flags/outputConstraint.js";
import {readPrompt} from "../readPrompt.js";
import {roundForJson, writeJsonLine, writeOut} from "../ui/stdout.js";
import {logLine} from "../ui/terminal.js";

export async function runComplete(promptArgument: string | undefined, options: CompleteOptions) {
    const grammar = await readOutputConstraint(options);
    if ((options.parallel ?? 1) > 1 && options.lines !== true)
        throw new UsageError("--parallel decodes several prompts together, so it needs --lines (one prompt a line of stdin).");
    if (options.lines === true) {
        const {runCompleteLines} = await import("../complete/completeLines.js");
        return runCompleteLines(promptArgument, options, grammar);
    }
    const logprobs = logprobsOption(options);
    const prompt = await readPrompt(promptArgument);
    // Constrained output is for programs: piped, it is printed whole once complete, never half an object.
    const stream = options.json !== true && (grammar == null || process.stdout.isTTY === true);
    // Nothing to keep once the text streamed: a decode that does not stop soon is not waited for.
    const interrupt = interruptController({graceMs: stopGraceMs});
    try {
        // The engine here, or a server (--endpoint, or a `mixtral serve` of the same file).
        const generator = await openGenerator(options, interrupt.signal, {
            grammar: grammar != null, responseFormat: await responseFormatOf(options), use: {kind: "complete", maxTokens: options.maxTokens, prompt}
        });
        try {
            const result = await generator.complete(prompt, {...samplingFrom(options, grammar), ...logprobs}, {
                onText: stream ? writeOut : undefined,
                signal: interrupt.signal
            });
            const {info} = generator;
            const cutOff = incompleteOutput(result, grammar);
            if (options.json === true) {
                writeJsonLine({
                    text: result.text,
                    model: info.model,
                    backend: info.backend,
                    threads: info.threads,
                    ...(info.endpoint == null ? {} : {endpoint: info.endpoint}),
                    stopReason: result.stopReason,
                    ...(result.complete == null ? {} : {complete: result.complete}),
                    tokens: result.tokens,
                    timings: {
                        loadMs: roundForJson(info.loadMs),
                        promptMs: roundForJson(result.timings.promptMs),
                        generateMs: roundForJson(result.timings.generateMs),
                        generatedTokensPerSecond: roundForJson(result.timings.generatedTokensPerSecond)
                    },
                    ...(result.logprobs == null ? {} : {logprobs: result.logprobs})
                });
            } else {
                const printed = stream || result.complete !== false;
                if (!stream && printed) writeOut(result.text);
                // Like `ollama run`: answers appended to a file or read by `$(…)` stay one a line.
                if (printed && options.raw !== true && !result.text.endsWith("\n")) writeOut("\n");
            }
            if (options.verbose === true)
                logLine(`\n${result.tokens.prompt} prompt tokens in ${result.timings.promptMs.toFixed(0)} ms; ` +
                    `${result.tokens.generated} generated at ${result.timings.generatedTokensPerSecond.toFixed(1)} tok/s ` +
                    `(${info.endpoint ?? `${info.backend}, ${info.threads} threads`}, stop: ${result.stopReason})`);
            if (result.stopReason === "abort") process.exitCode = ExitCode.interrupted;
            if (cutOff != null) throw cutOff;
        } finally {
            await generator.dispose();
        }
    } finally {
        interrupt.dispose();
    }
}
