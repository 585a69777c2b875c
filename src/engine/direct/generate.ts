import type {LlamaContextSequence, Token} from "node-llama-cpp";
import {UsageError} from "../../errors.js";
import type {GenerationResult, StopReason} from "../../generator/result.js";
import type {SamplingOptions} from "../../generator/sampling.js";
import {GenerationState, type GenerationCallbacks} from "../generation/generationState.js";
import {openDirectTokenLoop, type DirectTokenLoop} from "./directTokenLoop.js";

/**
 * Evaluates the prompt tokens after what the sequence already holds and generates a continuation:
 * the driver of one sequence (complete, chat). The sequence's history is kept (chat appends turns);
 * call `sequence.clearHistory()` for a fresh one.
 */
export async function generate(
    sequence: LlamaContextSequence,
    promptTokens: Token[],
    sampling: SamplingOptions,
    callbacks: GenerationCallbacks = {}
): Promise<GenerationResult> {
    const contextSize = sequence.contextSize;
    const startIndex = sequence.nextTokenIndex;
    if (startIndex + promptTokens.length >= contextSize)
        throw new UsageError(
            `The prompt is ${promptTokens.length} tokens, but only ${contextSize - startIndex - 1} fit in the ${contextSize}-token context.`,
            {hint: "Shorten the prompt or raise --context-size."}
        );
    const generation = await GenerationState.open(sequence.model, {promptTokens, sampling, contextSize}, callbacks);
    const endsAtOnce = generation.endsBeforeStart;
    if (endsAtOnce != null) return generation.finish(endsAtOnce);
    // The direct loop saves ~0.5 ms a token (see directTokenLoop.ts); the library's generator
    // remains for what the direct loop does not handle.
    const direct = openDirectTokenLoop(sequence, generation);
    const stopReason = direct != null
        ? await runDirect(direct, sequence, generation, promptTokens, callbacks.signal)
        : await runThroughLibrary(sequence, generation, promptTokens);
    return generation.finish(stopReason);
}

/** The direct loop: the token sampled is decoded on the next step, unless the generation ends with it. */
async function runDirect(loop: DirectTokenLoop, sequence: LlamaContextSequence, generation: GenerationState,
    promptTokens: readonly Token[], signal: AbortSignal | undefined): Promise<StopReason> {
    try {
        let input = promptTokens;
        while (true) {
            const sampled = await loop.step(input, signal);
            // Nothing sampled: aborted during the prompt (finish() says "abort" then) or no output.
            if (sampled == null) return "maxTokens";
            const stopReason = generation.accept(sampled.token, sequence.nextTokenIndex, sampled.distribution);
            if (stopReason != null) return stopReason;
            input = [sampled.token];
        }
    } finally {
        loop.dispose();
    }
}

/** node-llama-cpp's own generator, for what the direct loop cannot drive (no logprobs there). */
async function runThroughLibrary(sequence: LlamaContextSequence, generation: GenerationState, promptTokens: Token[]): Promise<StopReason> {
    // yieldEogToken: we want to see EOS to report why generation ended.
    for await (const token of sequence.evaluate(promptTokens, {...generation.samplerSettings().settings, yieldEogToken: true})) {
        const stopReason = generation.accept(token, sequence.nextTokenIndex);
        if (stopReason != null) return stopReason;
    }
    return "maxTokens";
}
