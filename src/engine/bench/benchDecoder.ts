import type {LlamaContext, LlamaContextSequence, Token} from "node-llama-cpp";
import {nativeContextOf, nativeSequenceIdOf} from "../native/nativeContext.js";

/**
 * The cheapest way to time llama_decode from JavaScript. node-llama-cpp's public evaluation path
 * queues each call through its batch scheduler, locks, a token predictor check and a sampler object:
 * ~0.2–0.4 ms a call on two cores, several times llama.cpp's own cost for a tiny model's token. The
 * native context of the pinned node-llama-cpp 3.21.1 exposes the three calls llama-bench's loop
 * makes (fill a batch, decode it, clear the sequence), so the timed loops use them directly — logits
 * for the last token of each batch, as llama_batch_get_one asks for, and no sampling. If those
 * internals ever change shape, the public path (`_noSampling` evaluation) is used instead.
 */
export type BenchDecoder = {
    /** Decodes the tokens after those already decoded, in batches of at most batchSize. */
    decode(tokens: readonly Token[]): Promise<void>,
    /** Empties the sequence's KV cache (llama_memory_seq_rm over all positions). */
    clear(): Promise<void>,
    readonly direct: boolean
};

export function createBenchDecoder(context: LlamaContext, sequence: LlamaContextSequence): BenchDecoder {
    const native = nativeContextOf(context);
    const sequenceId = nativeSequenceIdOf(sequence);
    const batchSize = context.batchSize;
    if (native != null && typeof sequenceId === "number") {
        let position = 0;
        return {
            direct: true,
            async decode(tokens) {
                for (let start = 0; start < tokens.length; start += batchSize) {
                    const batch = Uint32Array.from(tokens.slice(start, start + batchSize));
                    native.initBatch(batch.length);
                    native.addToBatch(sequenceId, position, batch, Uint32Array.of(batch.length - 1));
                    await native.decodeBatch();
                    position += batch.length;
                }
            },
            async clear() {
                native.disposeSequence(sequenceId);
                position = 0;
            }
        };
    }
    return {
        direct: false,
        async decode(tokens) {
            // An internal option of 3.21.1 too, but one that only skips the sampling step.
            const options = {_noSampling: true} as Parameters<LlamaContextSequence["evaluateWithMetadata"]>[2];
            for await (const token of sequence.evaluateWithMetadata([...tokens], {}, options)) void token;
        },
        clear: () => sequence.clearHistory()
    };
}
