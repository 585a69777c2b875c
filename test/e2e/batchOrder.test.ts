import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {BatchScheduler} from "../../src/engine/batch/batchScheduler.js";
import {tokenizePrompt} from "../../src/engine/generation/tokenizePrompt.js";
import {nativeContextOf, type NativeContext} from "../../src/engine/native/nativeContext.js";
import {openModel, type OpenedModel} from "../../src/engine/index.js";
import {tinyModel} from "./helpers/runCli.js";

// Each sequence has its own KV stream, and llama.cpp computes in one ubatch only sequences whose ids
// follow each other in batch order: a batch in request start order (1, 2, 0) costs two graph
// computations a step. The real engine, with the native batch calls recorded.
describe("the batch scheduler's batches", () => {
    let opened: OpenedModel;
    let native: NativeContext;
    const batches: number[][] = [];

    beforeAll(async () => {
        opened = await openModel({path: tinyModel(), gpu: "cpu", threads: 1, contextSize: 3 * 256, sequences: 3});
        native = nativeContextOf(opened.context)!;
        const initBatch = native.initBatch.bind(native);
        const addToBatch = native.addToBatch.bind(native);
        // The binding's methods are read-only on its prototype: own properties shadow them.
        Object.defineProperty(native, "initBatch", {value: (size: number) => {
            batches.push([]);
            initBatch(size);
        }});
        Object.defineProperty(native, "addToBatch", {value: (sequenceId: number, first: number, tokens: Uint32Array, logits: Uint32Array) => {
            batches.at(-1)!.push(sequenceId);
            return addToBatch(sequenceId, first, tokens, logits);
        }});
    });
    afterAll(async () => {
        await opened?.dispose();
    });

    it("hold their sequences in id order even when a later request took a lower sequence", async () => {
        const sequences = [opened.sequence, opened.context.getSequence(), opened.context.getSequence()];
        const scheduler = new BatchScheduler(opened.context, sequences, {queueLimit: 8});
        const sampling = (maxTokens: number) => ({maxTokens, temperature: 0, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, stop: []});
        const submit = (prompt: string, maxTokens: number) => scheduler.submit({promptTokens: tokenizePrompt(opened.sequence, prompt), sampling: sampling(maxTokens)});

        // A ends first; D then takes its sequence while B and C still generate.
        let late: Promise<unknown> | undefined;
        const first = submit("A short one", 2).then(() => {
            late = submit("D comes later", 12);
        });
        const results = await Promise.all([first, submit("B runs long", 40), submit("C runs long", 40)]);
        await late;
        expect(results).toHaveLength(3);
        await scheduler.close();

        // D's sequence (the one A had) decoded together with B's and C's: the case that was out of order.
        const shared = batches.filter((ids) => ids.length === 3);
        expect(shared.length).toBeGreaterThan(12);
        for (const ids of batches) expect(ids).toEqual([...ids].sort((a, b) => a - b));
    });
});
