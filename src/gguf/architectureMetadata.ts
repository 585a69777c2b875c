export type ArchitectureMetadata = {
    expert_count?: number,
    expert_used_count?: number,
    block_count?: number,
    embedding_length?: number,
    attention?: {head_count?: number, head_count_kv?: number, key_length?: number}
};

/**
 * The hyperparameters under the file's architecture key (`llama.block_count` …); empty when absent.
 * `info` is a parsed header, such as node-llama-cpp's GgufFileInfo: only its metadata is read.
 */
export function architectureMetadata(info: {metadata?: unknown}): ArchitectureMetadata {
    const metadata = info.metadata as ({general?: {architecture?: unknown}} & Record<string, unknown>) | undefined;
    const architecture = String(metadata?.general?.architecture ?? "llama");
    return (metadata?.[architecture] as ArchitectureMetadata | undefined) ?? {};
}
