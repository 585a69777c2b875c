import type {LlamaContext, LlamaContextSequence} from "node-llama-cpp";

/**
 * The native (N-API) context object inside node-llama-cpp 3.21.1's LlamaContext, typed for the calls
 * our hot loops make directly: generation (directTokenLoop.ts) and the benchmark (benchDecoder.ts).
 * It is an internal of the exactly pinned version, so every access goes through the shape check
 * here, and callers fall back to the public API when it returns undefined.
 */
export type AddonSampler = {applyConfig(config: object): void, dispose(): void};

export type NativeContext = {
    initBatch(size: number): void,
    addToBatch(sequenceId: number, firstTokenIndex: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array | Int32Array | number[],
    decodeBatch(): Promise<void>,
    sampleToken(batchLogitIndex: number, sampler: AddonSampler): Promise<number>,
    disposeSequence(sequenceId: number): void,
    /** Erases the KV cells of positions [start, end) of a sequence (end -1: to the end); false when it cannot. */
    removeTokenCellsFromSequence(sequenceId: number, start: number, end: number): boolean,
    setThreads(threads: number): void
};

const methods = ["initBatch", "addToBatch", "decodeBatch", "sampleToken", "disposeSequence", "removeTokenCellsFromSequence", "setThreads"] as const;

export function nativeContextOf(context: LlamaContext): NativeContext | undefined {
    const native = (context as unknown as {_ctx?: Partial<NativeContext>})._ctx;
    if (native == null || methods.some((name) => typeof native[name] !== "function")) return undefined;
    return native as NativeContext;
}

/** The sequence's id in the native context (llama.cpp's seq_id). */
export function nativeSequenceIdOf(sequence: LlamaContextSequence): number | undefined {
    const id = (sequence as unknown as {_sequenceId?: unknown})._sequenceId;
    return typeof id === "number" ? id : undefined;
}
