import {UsageError} from "../errors.js";

/**
 * How llama-perplexity cuts a text into work (tools/perplexity/perplexity.cpp, `perplexity()`): chunks
 * of n_ctx tokens laid end to end from the first token (a last partial chunk is dropped), each
 * evaluated from an empty KV cache with its first token replaced by BOS, and only its second half
 * scored: the logits at positions first … n_ctx−2 (first = n_ctx/2) predict the tokens after them,
 * so a chunk scores n_ctx − 1 − first tokens. -b n_batch ≥ n_ctx decodes n_batch/n_ctx chunks together,
 * one sequence each; a smaller n_batch splits each chunk over several decodes.
 */
export type ChunkPlan = {
    contextSize: number,
    /** Tokens per decode call: min(-b, n_ctx × sequences). */
    batchSize: number,
    chunkCount: number,
    /** Chunks decoded together, one sequence each (llama-perplexity's n_seq). */
    sequences: number,
    /** The first position whose logits are scored (n_ctx/2). */
    first: number,
    /** Tokens scored in each chunk: n_ctx − 1 − first. */
    scoredPerChunk: number
};

export type ChunkPlanInput = {
    tokenCount: number,
    contextSize: number,
    batchSize: number,
    /** --chunks: at most this many (llama-perplexity's default, -1, is all). */
    chunks?: number
};

/**
 * llama.cpp's default micro-batch (n_ubatch), which llama-perplexity keeps. Which kernels a matrix
 * product takes depends on how many rows it has, so the figures move (on the random test models by
 * up to 1 %) with the micro-batches' shape: ours have llama-perplexity's.
 */
export const microBatch = 512;

/**
 * The positions of each sequence one of our decodes holds: llama.cpp splits llama-perplexity's batch
 * into micro-batches of min(n_batch, 512) tokens, one sequence's run of positions at a time
 * (split_simple), or, with several sequences in separate KV streams, the same number of positions of
 * each sequence (split_equal): ⌊512 / sequences⌋. node-llama-cpp makes the micro-batch as large as the
 * batch, so we decode each micro-batch on its own, which also keeps the compute buffer as small.
 */
export function positionsPerDecode(batchSize: number, sequences: number): number {
    const tokens = Math.min(batchSize, microBatch);
    return sequences > 1 ? Math.max(1, Math.floor(tokens / sequences)) : tokens;
}

/** The sequences a context needs for this -c and -b: what llama-perplexity sets n_parallel to. */
export function sequencesFor(contextSize: number, batchSize: number): number {
    return Math.max(1, Math.floor(batchSize / contextSize));
}

/** llama-perplexity asserts this (GGML_ASSERT); we say it as a usage error before anything loads. */
export function checkBatchSize(contextSize: number, batchSize: number) {
    if (!(batchSize < contextSize || batchSize % contextSize === 0))
        throw new UsageError(`-b ${batchSize} must be smaller than the context (${contextSize}) or a multiple of it.`, {
            hint: `For example -b ${contextSize * Math.max(1, Math.floor(batchSize / contextSize))}, or -b ${Math.floor(contextSize / 2)}.`
        });
}

export function planChunks({tokenCount, contextSize, batchSize, chunks}: ChunkPlanInput): ChunkPlan {
    checkBatchSize(contextSize, batchSize);
    if (tokenCount < 2 * contextSize)
        throw new TextTooShortError(tokenCount, contextSize);
    const sequences = sequencesFor(contextSize, batchSize);
    const available = Math.floor(tokenCount / contextSize);
    const first = Math.floor(contextSize / 2);
    return {
        contextSize,
        batchSize: Math.min(batchSize, contextSize * sequences),
        chunkCount: chunks == null || chunks < 0 ? available : Math.min(chunks, available),
        sequences,
        first,
        scoredPerChunk: contextSize - 1 - first
    };
}

/** The chunk's tokens as decoded: BOS in place of its first token when the model adds one (the file keeps the original). */
export function chunkTokens(tokens: ArrayLike<number>, chunk: number, contextSize: number, bos: number | undefined): Uint32Array {
    const start = chunk * contextSize;
    const out = new Uint32Array(contextSize);
    for (let i = 0; i < contextSize; i++) out[i] = tokens[start + i]!;
    if (bos != null) out[0] = bos;
    return out;
}

export class TextTooShortError extends UsageError {
    constructor(tokenCount: number, contextSize: number) {
        super(`The text tokenizes to only ${tokenCount} tokens; perplexity with a context of ${contextSize} needs at least ${2 * contextSize}.`, {
            hint: "Give a longer text (Wikitext-2's wiki.test.raw is the usual one), or a smaller -c."
        });
    }
}
