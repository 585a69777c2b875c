import type {LlamaGrammarEvaluationState, Token} from "node-llama-cpp";
import type {SamplingOptions} from "../../generator/sampling.js";
import {penaltyWindow} from "../../generator/sampling.js";

/** Sampler settings in node-llama-cpp's shape (what `sequence.evaluate()` and `_resolveSamplerConfig` take). */
export type LibrarySamplerSettings = {
    temperature: number, topK: number, topP: number, minP: number, seed?: number,
    repeatPenalty?: {
        penalty: number, presencePenalty: number, frequencyPenalty: number,
        maxPunishTokens: number, punishTokens(): Token[]
    },
    /** The native sampler masks tokens the grammar rejects and accepts each sampled token into this state. */
    grammarEvaluationState?: LlamaGrammarEvaluationState
};

/**
 * The one translation of our sampling options into the library's settings, for every driver.
 * `generated` is the request's own list of generated tokens: the penalties look at its last
 * `penaltyWindow` (llama.cpp's repeat_last_n), read again before each sample.
 */
export function librarySamplerSettings(
    sampling: SamplingOptions, generated: readonly Token[], grammarState: LlamaGrammarEvaluationState | undefined
): {settings: LibrarySamplerSettings, penalized: boolean} {
    const presencePenalty = sampling.presencePenalty ?? 0;
    const frequencyPenalty = sampling.frequencyPenalty ?? 0;
    const penalized = sampling.repeatPenalty !== 1 || presencePenalty !== 0 || frequencyPenalty !== 0;
    const settings: LibrarySamplerSettings = {
        temperature: sampling.temperature,
        topK: sampling.topK,
        topP: sampling.topP,
        minP: sampling.minP,
        seed: sampling.seed,
        repeatPenalty: penalized ? {
            penalty: sampling.repeatPenalty,
            presencePenalty,
            frequencyPenalty,
            maxPunishTokens: penaltyWindow,
            punishTokens: () => generated.slice(-penaltyWindow)
        } : undefined,
        grammarEvaluationState: grammarState
    };
    return {settings, penalized};
}
