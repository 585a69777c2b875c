/** What a generation returns, wherever it ran (the engine here or a server). */

export type StopReason = "maxTokens" | "eos" | "stop" | "abort" | "contextFull";

/** A token's log-probability and, when asked for, the most likely tokens at its place. */
export type TokenLogprob = {
    /** The token's text (a lone byte of a multi-byte character reads as U+FFFD). */
    token: string,
    logprob: number,
    /** The most likely tokens at this place, most likely first (the sampled one among them when it is). */
    top: {token: string, logprob: number}[]
};

export type GenerationResult = {
    text: string,
    stopReason: StopReason,
    tokens: {prompt: number, generated: number},
    /** With a grammar: whether the output is complete (false when --max-tokens, a stop string or Ctrl+C cut it). */
    complete?: boolean,
    timings: {promptMs: number, generateMs: number, firstTokenMs: number, generatedTokensPerSecond: number},
    /** One entry a generated token (EOS excluded), when the sampling asked for logprobs. */
    logprobs?: TokenLogprob[],
    /** The stop string that ended the text, when stopReason is "stop". */
    stopSequence?: string
};
