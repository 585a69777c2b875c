import type {LlamaModel} from "node-llama-cpp";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {loadLlama} from "../../src/engine/native/loadLlama.js";
import {checkTextFits, nextCut, readVocabulary, tokenizeInSlices, type Vocabulary} from "../../src/engine/generation/promptSize.js";
import {tinyModel} from "../e2e/helpers/runCli.js";

/** Texts of words, spaces, newlines, special tokens' text and characters outside the vocabulary. */
function randomTexts(count: number, length: number): string[] {
    const pieces = ["the", "quick", " brown", "number", "question", ",", ".", "</s>", "<s>", "[INST]", "\n", "\n\n", "  ", "   ", "\t", "é", "日本", "😀", "12345", "▁", "<0x0A>"];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    return Array.from({length: count}, () => {
        let text = "";
        while (text.length < length) text += pieces[Math.floor(random() * pieces.length)]! + (random() < 0.5 ? " " : "");
        return text;
    });
}

describe("a prompt's size before and while it is tokenized", () => {
    let model: LlamaModel;
    let vocabulary: Vocabulary;
    beforeAll(async () => {
        const llama = await loadLlama({gpu: "cpu", threads: 1});
        model = await llama.loadModel({modelPath: tinyModel(), vocabOnly: true});
        vocabulary = readVocabulary(model);
    });
    afterAll(async () => {
        await model?.dispose();
    });

    test("tokenized in slices, a text gets exactly the tokens of one whole tokenization", async () => {
        expect(vocabulary.cuts).toBeDefined();
        for (const text of randomTexts(40, 12_000)) {
            // The slices really are several (a cut is found near every 4,096 characters).
            expect(nextCut(text, 4096, vocabulary.cuts!)).toBeLessThan(text.length);
            expect(await tokenizeInSlices(model, vocabulary, text, 1e9)).toEqual([...model.tokenize(text, true)]);
        }
    });

    test("the event loop turns between slices, and counting stops once the context is exceeded", async () => {
        const text = randomTexts(1, 40_000)[0]!;
        let turns = 0;
        const ticker = setInterval(() => turns++, 0);
        await tokenizeInSlices(model, vocabulary, text, 1e9);
        clearInterval(ticker);
        expect(turns).toBeGreaterThan(2);
        await expect(tokenizeInSlices(model, vocabulary, text, 512)).rejects.toThrow(/^The prompt is more than \d+ tokens, but only 510 fit in the 512-token context/);
    });

    test("text of more bytes than the context's tokens can stand for is refused without tokenizing", () => {
        // The longest piece of the tiny vocabulary stands for 7 bytes ("▁number").
        expect(vocabulary.maxTokenBytes).toBe(7);
        expect(() => checkTextFits(510 * 7, vocabulary, 512)).not.toThrow();
        expect(() => checkTextFits(510 * 7 + 1, vocabulary, 512)).toThrow(/^The prompt is at least 510 tokens/);
        // Every text that passes has at most as many bytes as its tokens can hold.
        for (const text of randomTexts(10, 3000)) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(model.tokenize(text, true).length * vocabulary.maxTokenBytes);
    });
});
