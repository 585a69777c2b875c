import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {Token} from "node-llama-cpp";
import {openModel, type OpenedModel} from "../../src/engine/index.js";
import {generate} from "../../src/engine/direct/generate.js";
import {tokenizePrompt} from "../../src/engine/generation/tokenizePrompt.js";
import {openDirectTokenLoop} from "../../src/engine/direct/directTokenLoop.js";
import {GenerationState} from "../../src/engine/generation/generationState.js";
import {tinyModel} from "./helpers/runCli.js";

// generate() bypasses node-llama-cpp's evaluate() generator for speed, through internals of the pinned
// version: it must produce the very tokens evaluate() would and leave the sequence as evaluate() does.
describe("the direct token loop", () => {
    let opened: OpenedModel;
    beforeAll(async () => {
        opened = await openModel({path: tinyModel(), gpu: "cpu", threads: 1, contextSize: 512});
    });
    afterAll(async () => {
        await opened?.dispose();
    });

    it("is available with node-llama-cpp's pinned version", async () => {
        const sampling = {maxTokens: 1, temperature: 0, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, stop: []};
        const generation = await GenerationState.open(opened.model, {promptTokens: [], sampling, contextSize: 512});
        const loop = openDirectTokenLoop(opened.sequence, generation);
        expect(loop).toBeDefined();
        loop?.dispose();
    });

    for (const [temperature, repeatPenalty, seed] of [[0, 1, undefined], [0.8, 1.1, 7], [0, 1.3, undefined]] as const) {
        it(`matches sequence.evaluate() token for token (temperature ${temperature}, repeat penalty ${repeatPenalty})`, async () => {
            const {sequence, model} = opened;
            const sampling = {temperature, topK: 40, topP: 0.95, minP: 0.05, seed};
            await sequence.clearHistory();
            const ours: Token[] = [];
            await generate(sequence, tokenizePrompt(sequence, "Once upon a time"), {...sampling, maxTokens: 40, repeatPenalty, stop: []},
                {onToken: (token) => ours.push(token)});
            const oursNextIndex = sequence.nextTokenIndex;
            const oursContext = sequence.contextTokens;

            await sequence.clearHistory();
            const theirs: Token[] = [];
            const prompt = tokenizePrompt(sequence, "Once upon a time");
            for await (const token of sequence.evaluate(prompt, {
                ...sampling,
                repeatPenalty: repeatPenalty === 1 ? undefined : {penalty: repeatPenalty, maxPunishTokens: 64, punishTokens: () => theirs.slice(-64)},
                yieldEogToken: true
            })) {
                if (model.isEogToken(token)) break;
                theirs.push(token);
                if (theirs.length >= 40) break;
            }
            expect(ours).toEqual(theirs);
            expect(oursNextIndex).toBe(sequence.nextTokenIndex);
            expect(oursContext).toEqual(sequence.contextTokens);
        });
    }
});

describe("Ctrl+C during a long prompt", () => {
    let opened: OpenedModel;
    beforeAll(async () => {
        // A small batch, so a 300-token prompt is decoded in several batches.
        opened = await openModel({path: tinyModel(), gpu: "cpu", threads: 1, contextSize: 512, batchSize: 64});
    });
    afterAll(async () => {
        await opened?.dispose();
    });

    it("stops between prompt batches instead of decoding the whole prompt first", async () => {
        const {sequence} = opened;
        await sequence.clearHistory();
        const prompt = tokenizePrompt(sequence, "hello ".repeat(300));
        expect(prompt.length).toBeGreaterThan(3 * 64);
        // A signal that turns aborted once the first batch is on its way: the user's Ctrl+C mid-prompt.
        let reads = 0;
        const signal = {get aborted() { return ++reads > 2; }} as AbortSignal;
        const result = await generate(sequence, prompt, {maxTokens: 10, temperature: 0, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, stop: []}, {signal});
        expect(result.stopReason).toBe("abort");
        expect(result.tokens.generated).toBe(0);
        // Some of the prompt was decoded, not all of it.
        expect(sequence.nextTokenIndex).toBeGreaterThan(0);
        expect(sequence.nextTokenIndex).toBeLessThan(prompt.length);
    });
});
