import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {Token} from "node-llama-cpp";
import {openModel, type OpenedModel} from "../../src/engine/openModel.js";
import {generate, tokenizePrompt} from "../../src/engine/generate.js";
import {openDirectTokenLoop} from "../../src/engine/directTokenLoop.js";
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

    it("is available with node-llama-cpp's pinned version", () => {
        const loop = openDirectTokenLoop(opened.sequence, {temperature: 0, topK: 40, topP: 0.95, minP: 0.05});
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
