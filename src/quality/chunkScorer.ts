/**
 * What the perplexity methods need of a model (implemented by the engine: engine/score/): its
 * vocabulary, its tokenizer as llama-perplexity calls it, and decodes of token sequences that hand
 * back, in order, the model's distribution at each position asked for.
 */
export type ChunkScorer = {
    readonly vocabularySize: number,
    /** The token put first in every chunk when the model adds BOS (llama_vocab_get_add_bos), else undefined. */
    readonly bos: number | undefined,
    /** Sequences the context holds: at most this many decode together. */
    readonly sequenceCount: number,
    /** The whole text as `common_tokenize(ctx, text, add_special = true, parse_special = false)`: BOS first when the model adds it. */
    tokenize(text: string): Uint32Array,
    /**
     * Decodes `sequences` (each in its own sequence, positions 0 …, from an empty cache) together, in
     * decode calls of at most `batchSize` positions of each, with logits for positions ≥ `outputFrom`
     * (as llama-perplexity asks), and calls `onPosition` for each position in [outputFrom, readUntil),
     * sequence by sequence, in order. `probabilities` (by token id, length vocabularySize) is only
     * valid during the call.
     */
    scoreSequences(sequences: readonly ScoredSequence[], batchSize: number, onPosition: (sequence: number, position: number, probabilities: Float32Array) => void): Promise<void>,
    /**
     * As scoreSequences, but hands back only each position's probability of the token that follows it
     * in its sequence (positions up to readUntil ≤ tokens.length − 1): all perplexity needs, and far
     * cheaper to read than the whole distribution.
     */
    scoreNextTokens(sequences: readonly ScoredSequence[], batchSize: number, onPosition: (sequence: number, position: number, probability: number) => void): Promise<void>,
    /** Where the time went so far: in llama_decode, and in reading the distributions back. */
    readonly timings: {decodeMs: number, readMs: number},
    /** Frees what the scorer holds natively (the model stays loaded). */
    dispose(): void
};

export type ScoredSequence = {tokens: Uint32Array, outputFrom: number, readUntil: number};
