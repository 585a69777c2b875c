import {ExitCode} from "../../errors.js";
import {generate, tokenizePrompt} from "../../engine/generate.js";
import type {GrammarSpec, SamplingOptions} from "../../engine/types.js";
import {interruptController} from "../interrupt.js";
import {resolveAndLoadModel, type ModelFlags} from "../loadModelWithProgress.js";
import {incompleteOutput, readOutputConstraint, type OutputConstraintFlags} from "../outputConstraint.js";
import {readPrompt} from "../readPrompt.js";
import {roundForJson, writeJson, writeOut} from "../ui/stdout.js";
import {logLine} from "../ui/terminal.js";

/** The parsed flags: the sampling ones as commander gives them (--stop absent when never given). */
export type CompleteOptions = ModelFlags & Omit<SamplingOptions, "stop" | "grammar"> & OutputConstraintFlags & {
    stop?: string[],
    json?: boolean,
    /** complete --lines: each stdin line is a prompt (see completeLines.ts). */
    lines?: boolean,
    parallel?: number
};

export function samplingFrom(options: CompleteOptions, grammar?: GrammarSpec): SamplingOptions {
    const {maxTokens, temperature, topK, topP, minP, repeatPenalty, seed} = options;
    return {maxTokens, temperature, topK, topP, minP, repeatPenalty, seed, stop: options.stop ?? [], ...(grammar == null ? {} : {grammar})};
}

export async function runComplete(promptArgument: string | undefined, options: CompleteOptions) {
    const grammar = await readOutputConstraint(options);
    if (options.lines === true) {
        const {runCompleteLines} = await import("./completeLines.js");
        return runCompleteLines(promptArgument, options, grammar);
    }
    const prompt = await readPrompt(promptArgument);
    // Constrained output is for programs: piped, it is printed whole once complete, never half an object.
    const stream = options.json !== true && (grammar == null || process.stdout.isTTY === true);
    const interrupt = interruptController();
    try {
        const loaded = await resolveAndLoadModel(options, interrupt.signal);
        try {
            const result = await generate(loaded.sequence, tokenizePrompt(loaded.sequence, prompt), samplingFrom(options, grammar), {
                onText: stream ? writeOut : undefined,
                signal: interrupt.signal
            });
            const cutOff = incompleteOutput(result, grammar);
            if (options.json === true) {
                writeJson({
                    text: result.text,
                    model: loaded.file.path,
                    backend: loaded.backend,
                    threads: loaded.threads,
                    stopReason: result.stopReason,
                    ...(result.complete == null ? {} : {complete: result.complete}),
                    tokens: result.tokens,
                    timings: {
                        loadMs: roundForJson(loaded.loadMs),
                        promptMs: roundForJson(result.timings.promptMs),
                        generateMs: roundForJson(result.timings.generateMs),
                        generatedTokensPerSecond: roundForJson(result.timings.generatedTokensPerSecond)
                    }
                });
            } else {
                if (!stream && result.complete !== false) writeOut(result.text);
                if (process.stdout.isTTY === true && !result.text.endsWith("\n")) writeOut("\n");
            }
            if (options.verbose === true)
                logLine(`\n${result.tokens.prompt} prompt tokens in ${result.timings.promptMs.toFixed(0)} ms; ` +
                    `${result.tokens.generated} generated at ${result.timings.generatedTokensPerSecond.toFixed(1)} tok/s ` +
                    `(${loaded.backend}, ${loaded.threads} threads, stop: ${result.stopReason})`);
            if (result.stopReason === "abort") process.exitCode = ExitCode.interrupted;
            if (cutOff != null) throw cutOff;
        } finally {
            await loaded.dispose();
        }
    } finally {
        interrupt.dispose();
    }
}
