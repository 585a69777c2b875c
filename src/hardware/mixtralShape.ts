import {cacheTypeBytesPerValue, type CacheType} from "./kvCacheTypes.js";

/**
 * Mixtral 8x7B's real shape (config.json of mistralai/Mixtral-8x7B-v0.1), from which the planner
 * derives how many bytes one layer and one token of KV cache take, whatever the quant.
 */
export const mixtral8x7b = {
    blockCount: 32,
    embeddingLength: 4096,
    feedForwardLength: 14336,
    expertCount: 8,
    headCount: 32,
    kvHeadCount: 8,
    headDim: 128,
    vocabularySize: 32000,
    trainContextSize: 32768
} as const;

const m = mixtral8x7b;

/** q and o are 4096×4096; k and v 4096×1024 (8 KV heads × 128, grouped-query attention). */
const attentionParams = 2 * m.embeddingLength * m.embeddingLength + 2 * m.embeddingLength * m.kvHeadCount * m.headDim;
/** Eight experts, each with gate, up and down projections of 4096×14336, plus the router. */
const expertParams = m.expertCount * 3 * m.embeddingLength * m.feedForwardLength + m.embeddingLength * m.expertCount;
const normParams = 2 * m.embeddingLength;

const blockParams = attentionParams + expertParams + normParams;
/** token_embd and output are each vocabulary × 4096. */
const embeddingParams = m.vocabularySize * m.embeddingLength;
/** ≈ 46.7 B, the published parameter count. */
const totalParams = m.blockCount * blockParams + 2 * embeddingParams + m.embeddingLength;

/**
 * llama.cpp counts the output layer as one more offloadable layer: `--gpu-layers 33` is
 * "everything on the GPU" for Mixtral, 32 keeps the output matrix on the CPU.
 */
export const totalOffloadableLayers = m.blockCount + 1;

/**
 * K and V of one block and one token in these cache types: 2 × 8 heads × 128 values, so 4 KiB at
 * f16 (128 KiB for all 32 blocks), 2176 bytes at q8_0, 1152 at q4_0.
 */
export function kvBytesPerTokenPerBlockOf(typeK: CacheType, typeV: CacheType): number {
    return m.kvHeadCount * m.headDim * (cacheTypeBytesPerValue(typeK) + cacheTypeBytesPerValue(typeV));
}

/**
 * Byte sizes of the parts of one GGUF file. A quant spends about the same bits on every large
 * matrix, so the parts scale with their parameter counts (the output matrix of K-quants is a
 * little larger; the error is well under one layer).
 */
export function weightParts(fileBytes: number) {
    const bytesPerParam = fileBytes / totalParams;
    return {
        block: blockParams * bytesPerParam,
        output: embeddingParams * bytesPerParam,
        /** Input embeddings are a lookup table: llama.cpp always keeps them in RAM. */
        inputEmbedding: embeddingParams * bytesPerParam
    };
}

/** Mixtral routes each token to 2 of its 8 experts (`llama.expert_used_count` in its GGUF files). */
export const mixtralExpertsUsed = 2;

/**
 * Parameters one generated token reads, for a file of `fileBytes`, split like the offload: each
 * block's attention, norms, router and `expertsUsed` of the 8 experts; the output matrix; one row
 * of the input embeddings. At 2 experts that is about 12.7 B of 46.7 B parameters (Mistral
 * publishes 12.9 B active); each expert more or less is 5.6 B parameters (176 M in each block).
 */
export function decodeWeightBytes(fileBytes: number, expertsUsed: number) {
    const bytesPerParam = fileBytes / totalParams;
    const activeBlockParams = attentionParams + normParams + m.embeddingLength * m.expertCount +
        expertsUsed * 3 * m.embeddingLength * m.feedForwardLength;
    return {
        block: activeBlockParams * bytesPerParam,
        output: embeddingParams * bytesPerParam,
        embeddingRow: m.embeddingLength * bytesPerParam
    };
}
