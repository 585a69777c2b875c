export type GpuChoice = "auto" | "cuda" | "metal" | "vulkan" | "cpu";
export type Backend = "cuda" | "metal" | "vulkan" | "cpu";

export type SamplingOptions = {
    maxTokens: number,
    /** 0 means greedy. */
    temperature: number,
    topK: number,
    topP: number,
    minP: number,
    /** 1 means off. */
    repeatPenalty: number,
    seed?: number,
    stop: string[],
    /** Constrains the output at the sampler (--json-schema, --grammar, --format json). */
    grammar?: GrammarSpec
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

export type StopReason = "maxTokens" | "eos" | "stop" | "abort" | "contextFull";

export type GenerationResult = {
    text: string,
    stopReason: StopReason,
    tokens: {prompt: number, generated: number},
    /** With a grammar: whether the output is complete (false when --max-tokens, a stop string or Ctrl+C cut it). */
    complete?: boolean,
    timings: {promptMs: number, generateMs: number, firstTokenMs: number, generatedTokensPerSecond: number}
};
