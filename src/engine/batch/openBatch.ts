import type {LlamaContextSequence} from "node-llama-cpp";
import type {OpenedModel} from "../load/openModel.js";
import {BatchScheduler} from "./batchScheduler.js";

/**
 * The one way to batch a loaded model: all of its context's sequences (opened with `sequences: n`)
 * behind a BatchScheduler. Used by `serve` (servingModel.ts) and `complete --lines --parallel`
 * (localGenerator.ts's completeEach).
 */
export function openBatch(loaded: OpenedModel, parallel: number, queueLimit: number): BatchScheduler {
    const sequences: LlamaContextSequence[] = [loaded.sequence];
    while (sequences.length < parallel) sequences.push(loaded.context.getSequence());
    return new BatchScheduler(loaded.context, sequences, {queueLimit});
}
