import {ExitCode} from "../../errors.js";
import {generate, tokenizePrompt} from "../../engine/generate.js";
import type {SamplingOptions} from "../../engine/types.js";
import {interruptController, stopGraceMs} from "../interrupt.js";
import {resolveAndLoadModel, type ModelFlags} from "../loadModelWithProgress.js";
import {readPrompt} from "../readPrompt.js";
import {roundForJson, writeJson, writeOut} from "../ui/stdout.js";
import {logLine} from "../ui/terminal.js";

/** The parsed flags: the sampling ones as commander gives them (--stop absent when never given). */
export type CompleteOptions = ModelFlags & Omit<SamplingOptions, "stop"> & {
    stop?: string[],
    json?: boolean
};

export function samplingFrom(options: CompleteOptions): SamplingOptions {
    const {maxTokens, temperature, topK, topP, minP, repeatPenalty, seed} = options;
    return {maxTokens, temperature, topK, topP, minP, repeatPenalty, seed, stop: options.stop ?? []};
}

export async function runComplete(promptArgument: string | undefined, options: CompleteOptions) {
    const prompt = await readPrompt(promptArgument);
    // Nothing to keep once the text streamed: a decode that does not stop soon is not waited for.
    const interrupt = interruptController({graceMs: stopGraceMs});
    try {
        const loaded = await resolveAndLoadModel(options, interrupt.signal);
        try {
            const result = await generate(loaded.sequence, tokenizePrompt(loaded.sequence, prompt), samplingFrom(options), {
                onText: options.json === true ? undefined : writeOut,
                signal: interrupt.signal
            });
            if (options.json === true) {
                writeJson({
                    text: result.text,
                    model: loaded.file.path,
                    backend: loaded.backend,
                    threads: loaded.threads,
                    stopReason: result.stopReason,
                    tokens: result.tokens,
                    timings: {
                        loadMs: roundForJson(loaded.loadMs),
                        promptMs: roundForJson(result.timings.promptMs),
                        generateMs: roundForJson(result.timings.generateMs),
                        generatedTokensPerSecond: roundForJson(result.timings.generatedTokensPerSecond)
                    }
                });
            } else if (process.stdout.isTTY === true && !result.text.endsWith("\n")) writeOut("\n");
            if (options.verbose === true)
                logLine(`\n${result.tokens.prompt} prompt tokens in ${result.timings.promptMs.toFixed(0)} ms; ` +
                    `${result.tokens.generated} generated at ${result.timings.generatedTokensPerSecond.toFixed(1)} tok/s ` +
                    `(${loaded.backend}, ${loaded.threads} threads, stop: ${result.stopReason})`);
            if (result.stopReason === "abort") process.exitCode = ExitCode.interrupted;
        } finally {
            await loaded.dispose();
        }
    } finally {
        interrupt.dispose();
    }
}
