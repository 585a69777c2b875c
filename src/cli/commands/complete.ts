import {ExitCode} from "../../errors.js";
import type {SamplingOptions} from "../../engine/types.js";
import {interruptController} from "../interrupt.js";
import {openGenerator, type GeneratorFlags} from "../openGenerator.js";
import {readPrompt} from "../readPrompt.js";
import {roundForJson, writeJson, writeOut} from "../ui/stdout.js";
import {logLine} from "../ui/terminal.js";

/** The parsed flags: the sampling ones as commander gives them (--stop absent when never given). */
export type CompleteOptions = GeneratorFlags & Omit<SamplingOptions, "stop"> & {
    stop?: string[],
    json?: boolean
};

export function samplingFrom(options: CompleteOptions): SamplingOptions {
    const {maxTokens, temperature, topK, topP, minP, repeatPenalty, seed} = options;
    return {maxTokens, temperature, topK, topP, minP, repeatPenalty, seed, stop: options.stop ?? []};
}

export async function runComplete(promptArgument: string | undefined, options: CompleteOptions) {
    const prompt = await readPrompt(promptArgument);
    const interrupt = interruptController();
    try {
        // The engine here, or a server (--endpoint, or a `mixtral serve` of the same file).
        const generator = await openGenerator(options, interrupt.signal);
        try {
            const result = await generator.complete(prompt, samplingFrom(options), {
                onText: options.json === true ? undefined : writeOut,
                signal: interrupt.signal
            });
            const {info} = generator;
            if (options.json === true) {
                writeJson({
                    text: result.text,
                    model: info.model,
                    backend: info.backend,
                    threads: info.threads,
                    ...(info.endpoint == null ? {} : {endpoint: info.endpoint}),
                    stopReason: result.stopReason,
                    tokens: result.tokens,
                    timings: {
                        loadMs: roundForJson(info.loadMs),
                        promptMs: roundForJson(result.timings.promptMs),
                        generateMs: roundForJson(result.timings.generateMs),
                        generatedTokensPerSecond: roundForJson(result.timings.generatedTokensPerSecond)
                    }
                });
            } else if (process.stdout.isTTY === true && !result.text.endsWith("\n")) writeOut("\n");
            if (options.verbose === true)
                logLine(`\n${result.tokens.prompt} prompt tokens in ${result.timings.promptMs.toFixed(0)} ms; ` +
                    `${result.tokens.generated} generated at ${result.timings.generatedTokensPerSecond.toFixed(1)} tok/s ` +
                    `(${info.endpoint ?? `${info.backend}, ${info.threads} threads`}, stop: ${result.stopReason})`);
            if (result.stopReason === "abort") process.exitCode = ExitCode.interrupted;
        } finally {
            await generator.dispose();
        }
    } finally {
        interrupt.dispose();
    }
}
