/**
 * How a generation samples: the one source of the defaults that `complete`, `chat` (their flags) and
 * every dialect of `serve` (a field a request leaves out) use, so the same request samples the same
 * way wherever it comes from. Types only and constants: the remote path never loads node-llama-cpp.
 */

export type SamplingOptions = {
    maxTokens: number,
    /** 0 means greedy. */
    temperature: number,
    topK: number,
    topP: number,
    minP: number,
    /** 1 means off. */
    repeatPenalty: number,
    /** OpenAI's presence penalty (llama.cpp's penalties sampler, over the same window); 0 or absent means off. */
    presencePenalty?: number,
    /** OpenAI's frequency penalty; 0 or absent means off. */
    frequencyPenalty?: number,
    seed?: number,
    stop: string[],
    /** Constrains the output at the sampler (--json-schema, --grammar, --format json). */
    grammar?: GrammarSpec,
    /**
     * Record each generated token's log-probability and this many most likely alternatives (0: the
     * chosen token's alone), from the model's distribution before temperature, as OpenAI reports them.
     */
    logprobs?: number
};

/** A llama.cpp GBNF grammar, checked (src/grammar/) before any model loads. */
export type GrammarSpec = {
    gbnf: string,
    /**
     * True when nothing can follow a complete output (a JSON object, array or string): generation then
     * ends the moment the grammar is complete. Otherwise (a number, any GBNF) the model ends it.
     */
    closed: boolean,
    /** What the output is, for messages: "JSON" or "grammar". */
    describes: "JSON" | "grammar"
};

/** llama.cpp's defaults (common_params_sampling), which its tools and llama-server use too. */
export const samplingDefaults = {
    temperature: 0.8,
    topK: 40,
    topP: 0.95,
    minP: 0.05,
    repeatPenalty: 1,
    presencePenalty: 0,
    frequencyPenalty: 0
} as const;

/** -n of chat and complete when not given (complete's also sets where its KV cache rule tips, see doctor). */
export const maxTokensDefaults = {chat: 1024, complete: 256} as const;

/** The penalties look back this many generated tokens (llama.cpp's repeat_last_n). */
export const penaltyWindow = 64;

/** Most alternatives a token's logprobs may list (OpenAI's top_logprobs limit). */
export const maxTopLogprobs = 20;
