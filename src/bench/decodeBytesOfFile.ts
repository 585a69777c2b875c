import type {GgufFileInfo} from "../gguf/ggufHeader.js";
import {architectureMetadata} from "../gguf/architectureMetadata.js";
import {decodeBytesPerToken, type DecodeBytes} from "./roofline.js";

/**
 * Bytes one decode step reads, from the GGUF's real tensor table and its hyperparameters;
 * `expertsUsed` (--experts) replaces the file's expert_used_count, as the override does in llama.cpp.
 */
export function decodeBytesOfFile(info: GgufFileInfo, expertsUsed?: number): DecodeBytes | undefined {
    const metadata = architectureMetadata(info);
    const headCount = Number(metadata.attention?.head_count ?? 0);
    const headCountKv = Number(metadata.attention?.head_count_kv ?? headCount);
    const headDimension = Number(metadata.attention?.key_length ?? (headCount > 0 ? Number(metadata.embedding_length ?? 0) / headCount : 0));
    return decodeBytesPerToken(info.tensorInfo ?? [], {
        expertCount: Number(metadata.expert_count ?? 0),
        expertUsedCount: expertsUsed ?? Number(metadata.expert_used_count ?? 0),
        layerCount: Number(metadata.block_count ?? 0),
        kvEmbeddingLength: headCountKv * headDimension,
        // llama.cpp's default K/V cache type is f16.
        kvBytesPerElement: 2
    });
}
