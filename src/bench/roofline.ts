import {tensorByteSize} from "../gguf/ggmlTypeSizes.js";

/**
 * The decode roofline: generating one token streams every weight the token touches through the
 * memory bus once, so tok/s can never exceed bandwidth ÷ bytes read per token. For a mixture of
 * experts that is all attention and norm weights, the router, only the routed experts' FFN weights
 * (2 of 8 for Mixtral), the output head, one row of the token embeddings, and the K/V cache so far.
 */
export type TensorSummary = {name: string, ggmlType: number, dimensions: readonly (number | bigint)[]};

export type DecodeShape = {
    expertCount: number,
    expertUsedCount: number,
    layerCount: number,
    /** head_count_kv × head dimension: elements of K (and of V) per token per layer. */
    kvEmbeddingLength: number,
    /** Bytes per K/V element: 2 for llama.cpp's default f16 cache. */
    kvBytesPerElement: number
};

export type DecodeBytes = {
    /** Weight bytes read for one generated token. */
    weightBytes: number,
    /** K and V bytes read per token already in the cache. */
    kvBytesPerCachedToken: number
};

const expertTensor = /^blk\.\d+\.ffn_(gate|up|down)(_exps\.weight|\.\d+\.weight)$/;

export function decodeBytesPerToken(tensors: readonly TensorSummary[], shape: DecodeShape): DecodeBytes | undefined {
    const expertFraction = shape.expertCount > 0 ? Math.min(1, shape.expertUsedCount / shape.expertCount) : 1;
    let weightBytes = 0;
    let hasOutputHead = false;
    let embeddings: TensorSummary | undefined;
    for (const tensor of tensors) {
        const bytes = tensorByteSize(tensor.ggmlType, tensor.dimensions);
        if (bytes == null) return undefined;
        if (tensor.name === "token_embd.weight") {
            embeddings = tensor;
            // One row (dimensions[0] elements) is looked up per token.
            const row = tensorByteSize(tensor.ggmlType, [tensor.dimensions[0] ?? 0]);
            if (row == null) return undefined;
            weightBytes += row;
        } else if (expertTensor.test(tensor.name)) weightBytes += bytes * expertFraction;
        else {
            if (tensor.name === "output.weight") hasOutputHead = true;
            weightBytes += bytes;
        }
    }
    // Tied embeddings: the output head is the embedding matrix, read whole for the logits.
    if (!hasOutputHead && embeddings != null) weightBytes += tensorByteSize(embeddings.ggmlType, embeddings.dimensions) ?? 0;
    return {
        weightBytes,
        kvBytesPerCachedToken: 2 * shape.layerCount * shape.kvEmbeddingLength * shape.kvBytesPerElement
    };
}

/**
 * Bytes read per generated token during a tg test of nGen tokens after nContext cached tokens: the
 * weights every step, plus the cache, which grows from nContext to nContext + nGen - 1 (its mean).
 */
export function bytesPerGeneratedToken(bytes: DecodeBytes, nContext: number, nGen: number): number {
    const meanCached = nContext + Math.max(0, nGen - 1) / 2;
    return bytes.weightBytes + bytes.kvBytesPerCachedToken * meanCached;
}

/** The roofline in tok/s for a bandwidth in GB/s (10^9 bytes per second, as vendors quote it). */
export function rooflineTokensPerSecond(bandwidthGBs: number, bytesPerToken: number): number {
    return bytesPerToken > 0 ? bandwidthGBs * 1e9 / bytesPerToken : 0;
}
