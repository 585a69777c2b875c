import type {GrammarSpec, SamplingOptions} from "../../generator/sampling.js";

/** The sampling flags of `complete` and `chat`, as commander gives them (--stop absent when never given). */
export type SamplingFlags = Omit<SamplingOptions, "stop" | "grammar" | "logprobs" | "presencePenalty" | "frequencyPenalty"> & {
    stop?: string[]
};

export function samplingFrom(options: SamplingFlags, grammar?: GrammarSpec): SamplingOptions {
    const {maxTokens, temperature, topK, topP, minP, repeatPenalty, seed} = options;
    return {maxTokens, temperature, topK, topP, minP, repeatPenalty, seed, stop: options.stop ?? [], ...(grammar == null ? {} : {grammar})};
}
