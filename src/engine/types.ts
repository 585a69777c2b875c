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
    stop: string[]
};

export type StopReason = "maxTokens" | "eos" | "stop" | "abort" | "contextFull";

export type GenerationResult = {
    text: string,
    stopReason: StopReason,
    tokens: {prompt: number, generated: number},
    timings: {promptMs: number, generateMs: number, firstTokenMs: number, generatedTokensPerSecond: number}
};
