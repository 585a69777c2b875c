import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {GenerationResult} from "../../src/generator/result.js";
import type {SamplingOptions} from "../../src/generator/sampling.js";
import {openBatch} from "../../src/engine/batch/openBatch.js";
import {generate} from "../../src/engine/direct/generate.js";
import {tokenizePrompt} from "../../src/engine/generation/tokenizePrompt.js";
import {openModel, type OpenedModel} from "../../src/engine/index.js";
import {tinyModel} from "./helpers/runCli.js";

// Logprobs are captured once, in the per-request generation state, so both drivers (the one-sequence
// loop of `complete`/`chat` and the batch scheduler of `serve`/--parallel) report the same ones.
describe("logprobs from the one generation state", () => {
    let opened: OpenedModel;
    beforeAll(async () => {
        opened = await openModel({path: tinyModel(), gpu: "cpu", threads: 1, contextSize: 2 * 256, sequences: 2});
    });
    afterAll(async () => {
        await opened?.dispose();
    });

    const sampling = (extra: Partial<SamplingOptions>): SamplingOptions =>
        ({maxTokens: 12, temperature: 0, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, stop: [], logprobs: 3, ...extra});

    const direct = async (prompt: string, options: SamplingOptions): Promise<GenerationResult> => {
        await opened.sequence.clearHistory();
        return generate(opened.sequence, tokenizePrompt(opened.sequence, prompt), options);
    };

    it("greedy: one entry a generated token, the chosen token the most likely, log-probabilities of a distribution", async () => {
        const result = await direct("Once upon a time", sampling({}));
        const logprobs = result.logprobs!;
        expect(result.tokens.generated).toBeGreaterThan(0);
        expect(logprobs).toHaveLength(result.tokens.generated);
        expect(logprobs.map((entry) => entry.token).join("")).toBe(result.text);
        for (const entry of logprobs) {
            expect(entry.top).toHaveLength(3);
            expect(entry.logprob).toBeLessThanOrEqual(0);
            // Greedy picks the argmax of the raw distribution.
            expect(entry.logprob).toBeCloseTo(entry.top[0]!.logprob, 5);
            expect(entry.token).toBe(entry.top[0]!.token);
            expect(entry.top[0]!.logprob).toBeGreaterThanOrEqual(entry.top[1]!.logprob);
            expect(entry.top[1]!.logprob).toBeGreaterThanOrEqual(entry.top[2]!.logprob);
            const mass = entry.top.reduce((sum, alternative) => sum + Math.exp(alternative.logprob), 0);
            expect(mass).toBeLessThanOrEqual(1 + 1e-6);
        }
    });

    it("are the model's own distribution, before temperature: a sampled run reports the probabilities greedy sees", async () => {
        const greedy = await direct("The capital of France", sampling({maxTokens: 1}));
        const hot = await direct("The capital of France", sampling({maxTokens: 1, temperature: 5, seed: 3}));
        expect(hot.logprobs![0]!.top).toEqual(greedy.logprobs![0]!.top);
    });

    it("are left out when not asked for", async () => {
        const result = await direct("Once upon a time", sampling({logprobs: undefined}));
        expect(result.logprobs).toBeUndefined();
    });

    // Last: the scheduler takes the context over (its sequences' caches are its own from then on).
    it("the batch scheduler reports the same text and logprobs as the one-sequence loop", async () => {
        const prompts = ["Once upon a time", "A list of colours:"];
        const alone = [];
        for (const prompt of prompts) alone.push(await direct(prompt, sampling({})));
        await opened.sequence.clearHistory();
        const scheduler = openBatch(opened, 2, 4);
        try {
            const together = await Promise.all(prompts.map((prompt) =>
                scheduler.submit({promptTokens: tokenizePrompt(opened.sequence, prompt), sampling: sampling({})})));
            for (const [index, result] of together.entries()) {
                expect(result.text).toBe(alone[index]!.text);
                expect(result.logprobs!.map((entry) => entry.token)).toEqual(alone[index]!.logprobs!.map((entry) => entry.token));
                for (const [place, entry] of result.logprobs!.entries())
                    expect(entry.logprob).toBeCloseTo(alone[index]!.logprobs![place]!.logprob, 3);
            }
        } finally {
            await scheduler.close();
        }
    });

});
