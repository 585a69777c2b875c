import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {LlamaContextSequence, Token} from "node-llama-cpp";
import {openModel, type OpenedModel, type ThreadSwitchEvent} from "../../src/engine/index.js";
import {generate} from "../../src/engine/direct/generate.js";
import {tokenizePrompt} from "../../src/engine/generation/tokenizePrompt.js";
import {ThreadPolicy} from "../../src/engine/native/threadPolicy.js";
import {BatchScheduler} from "../../src/engine/batch/batchScheduler.js";
import {tinyModel} from "./helpers/runCli.js";

// Without --threads the count of generated tokens' decodes changes while they run (on a 2-core
// machine the test model's 2-thread tokens often collapse, and 1 thread is tried at once, or used
// from the start when other processes hold the cores). Whatever the count, greedy tokens must be
// those of a fixed count. (node-llama-cpp's own evaluate() is no reference here: at 2 threads on a
// loaded machine it took 29 s for these 48 tokens, ours 0.3 s.)
describe("adaptive threads with the real binding", () => {
    let adaptive: OpenedModel;
    let fixed: OpenedModel;
    const switches: ThreadSwitchEvent[] = [];
    beforeAll(async () => {
        // Two sequences each: the batch scheduler's case runs after the direct loop's, on the same contexts.
        adaptive = await openModel({path: tinyModel(), gpu: "cpu", contextSize: 256, sequences: 2, onThreadSwitch: (change) => switches.push(change)});
        fixed = await openModel({path: tinyModel(), gpu: "cpu", threads: 1, contextSize: 256, sequences: 2});
    });
    afterAll(async () => {
        await adaptive?.dispose();
        await fixed?.dispose();
    });

    const greedy = async (sequence: LlamaContextSequence) => {
        const tokens: Token[] = [];
        await generate(sequence, tokenizePrompt(sequence, "Once upon a time"), {temperature: 0, maxTokens: 48, repeatPenalty: 1, stop: []},
            {onToken: (token) => tokens.push(token)});
        return tokens;
    };

    it("generates the tokens of a fixed thread count while its policy adapts, and tells each switch", async () => {
        const policy = ThreadPolicy.of(adaptive.context)!;
        expect(policy.tokenThreads(1) == null).toBe(policy.batchThreads <= 1);
        expect(ThreadPolicy.of(fixed.context)!.tokenThreads(1)).toBeUndefined();
        expect(await greedy(adaptive.sequence)).toEqual(await greedy(fixed.sequence));
        for (const change of switches) {
            expect(change.width).toBe(1);
            expect(change.from).not.toBe(change.to);
            expect([change.from, change.to].every((threads) => threads >= 1 && threads <= policy.batchThreads)).toBe(true);
        }
    });

    it("the batch scheduler's streams get the tokens of a fixed thread count too", async () => {
        const streams = async (opened: OpenedModel) => {
            await opened.sequence.clearHistory();
            const scheduler = new BatchScheduler(opened.context, [opened.sequence, opened.context.getSequence()], {queueLimit: 4});
            const sampling = {maxTokens: 40, temperature: 0, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, stop: []};
            try {
                // One alone, then two together: widths 1 and 2 each have their own timings.
                const alone = await scheduler.submit({promptTokens: tokenizePrompt(opened.sequence, "A lone stream"), sampling});
                const together = await Promise.all(["The first of two", "The second of two"].map((prompt) =>
                    scheduler.submit({promptTokens: tokenizePrompt(opened.sequence, prompt), sampling})));
                return [alone, ...together].map((result) => result.text);
            } finally {
                await scheduler.close();
            }
        };
        expect(await streams(adaptive)).toEqual(await streams(fixed));
        for (const change of switches) expect([1, 2]).toContain(change.width);
    });

    it("MIXTRAL_THREADS pins the count as --threads does: nothing adapts", async () => {
        const before = process.env.MIXTRAL_THREADS;
        process.env.MIXTRAL_THREADS = "2";
        let pinned: OpenedModel | undefined;
        try {
            pinned = await openModel({path: tinyModel(), gpu: "cpu", contextSize: 256});
            expect(ThreadPolicy.of(pinned.context)!.tokenThreads(1)).toBeUndefined();
        } finally {
            if (before == null) delete process.env.MIXTRAL_THREADS;
            else process.env.MIXTRAL_THREADS = before;
            await pinned?.dispose();
        }
    });
});
