/**
 * Each generated test model loads in the real native engine (node-llama-cpp's prebuilt llama.cpp, CPU)
 * and greedy-generates printable text, the same twice. This is what proves the writer's files are
 * models llama.cpp accepts, not just files our own reader accepts.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {getLlama, LlamaCompletion, LlamaLogLevel, type Llama, type LlamaModel, type Token} from "node-llama-cpp";
import {ensureTestModels, testModelNames, testModelOptions, testModelPath} from "../../scripts/gguf/testModels.js";
import {mixtralMetadata, mixtralTensors} from "../../scripts/gguf/mixtralModel.js";
import {roundTripThroughType} from "../../scripts/gguf/dequantize.js";
import {writeGguf, type GgufTensor} from "../../src/gguf/write/writeGguf.js";
import type {TensorType} from "../../src/gguf/write/tensorTypes.js";
import {mixtralInstructChatTemplate} from "../../scripts/gguf/mixtralChatTemplate.js";
import {mistralToolsChatTemplate} from "../../scripts/gguf/mistralToolsChatTemplate.js";
import {firstByteTokenId, firstWordPieceId} from "../../scripts/gguf/vocabulary.js";

const generatedTokens = 16;
const prompt = "[INST] Hello, how are you? [/INST]";
/** letters, digits, punctuation, symbols and spaces: no control characters, no U+FFFD from broken UTF-8 */
const printable = /^[\p{L}\p{N}\p{P}\p{S}\p{M} ]+$/u;

let llama: Llama;

beforeAll(async () => {
    await ensureTestModels(); // normally done by `npm test`'s pretest; cheap when up to date
    llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
});
afterAll(async () => {
    // after a failed model load, llama.dispose() can wait forever: bound it so a failure reports quickly
    await Promise.race([llama?.dispose(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
});

/**
 * One thread: these models are tiny, and on a loaded two-core machine ggml's spinning thread pool
 * makes a two-thread step hundreds of times slower than a single-thread one.
 */
async function greedyTokens(model: LlamaModel): Promise<Token[][]> {
    const context = await model.createContext({contextSize: 256, threads: 1});
    try {
        const sequence = context.getSequence();
        const runs: Token[][] = [];
        for (let run = 0; run < 2; run++) {
            await sequence.clearHistory();
            const tokens: Token[] = [];
            for await (const token of sequence.evaluate([model.tokens.bos!, ...model.tokenize(prompt)], {temperature: 0})) {
                tokens.push(token);
                if (tokens.length === generatedTokens)
                    break;
            }
            runs.push(tokens);
        }
        return runs;
    } finally {
        await context.dispose();
    }
}

describe.each(testModelNames)("%s", (name) => {
    let model: LlamaModel;
    beforeAll(async () => {
        model = await llama.loadModel({modelPath: testModelPath(name)});
    });
    afterAll(async () => {
        await model?.dispose();
    });

    test("loads with the shape and tokenizer it was written with", () => {
        const options = testModelOptions[name];
        expect(model.trainContextSize).toBe(options.contextLength);
        expect(model.embeddingVectorSize).toBe(options.dim);
        expect(model.tokens.bos).toBe(1);
        expect(model.tokens.eos).toBe(2);
        expect(model.fileInfo.metadata.general.architecture).toBe("llama");
        expect(model.fileInfo.metadata.tokenizer.chat_template)
            .toBe(options.chatTemplate === false ? undefined : options.chatTemplate === "mistral-tools" ? mistralToolsChatTemplate : mixtralInstructChatTemplate);
    });

    test(`greedy-generates ${generatedTokens} word-piece tokens of printable text, the same twice`, async () => {
        const [first, second] = await greedyTokens(model);
        expect(first).toHaveLength(generatedTokens); // never stopped early on </s>
        expect(second).toEqual(first);
        expect(first!.every((token) => token >= firstWordPieceId)).toBe(true); // no special or lone byte token
        const text = model.detokenize(first!);
        expect(text).toMatch(printable);
        expect(text.trim().length).toBeGreaterThan(generatedTokens / 2);
    });

    test("LlamaCompletion runs to maxTokens", async () => {
        const context = await model.createContext({contextSize: 256, threads: 1});
        try {
            const completion = new LlamaCompletion({contextSequence: context.getSequence()});
            const text = await completion.generateCompletion("Hello", {maxTokens: 8, temperature: 0});
            expect(text).toMatch(printable);
            expect(model.tokenize(text).length).toBeGreaterThanOrEqual(4); // word pieces can re-merge when re-tokenized
        } finally {
            await context.dispose();
        }
    });

    test("prompts tokenize into real word pieces; characters outside the vocabulary fall back to bytes", () => {
        const instruction = model.tokenize(prompt);
        expect(instruction.every((token) => token >= firstWordPieceId)).toBe(true);
        expect(model.detokenize(instruction).trim()).toBe(prompt);

        const accented = model.tokenize("café 日本");
        expect(accented.every((token) => token >= firstWordPieceId)).toBe(true); // é, 日, 本 have their own pieces
        expect(model.detokenize(accented).trim()).toBe("café 日本");

        // 🙂 is U+1F642, UTF-8 F0 9F 99 82: four byte tokens, <0xF0> is id 3 + 0xF0
        const emoji = model.tokenize("🙂").filter((token) => token >= firstByteTokenId && token < firstWordPieceId);
        expect(emoji).toEqual([0xF0, 0x9F, 0x99, 0x82].map((byte) => firstByteTokenId + byte));
        expect(model.detokenize(emoji)).toBe("🙂");
        expect(model.detokenize(emoji.slice(0, 2))).not.toBe("🙂");
    });
});

/**
 * The quantized layouts mean to llama.cpp what they mean to us: a model stored as F16/Q8_0/Q4_0 and an
 * F32 model holding exactly the values those blocks decode to (by our dequantizer) must predict the same
 * next-token distribution. A swapped nibble order, a wrong scale sign or a misplaced block would make the
 * two models unrelated. (Not bit-identical: llama.cpp's quantized dot products also round activations.)
 */
describe("quantized tensors decode in llama.cpp to the values we encoded", () => {
    const workDir = mkdtempSync(join(tmpdir(), "gguf-layout-"));
    afterAll(() => rmSync(workDir, {recursive: true, force: true}));

    async function nextTokenProbabilities(path: string): Promise<Float64Array> {
        const model = await llama.loadModel({modelPath: path});
        try {
            const context = await model.createContext({contextSize: 256, threads: 1});
            const probabilities = new Float64Array(testModelOptions["tiny-f32"].vocabSize);
            for await (const output of context.getSequence().evaluateWithMetadata(
                [model.tokens.bos!, ...model.tokenize(prompt)], {probabilities: true}, {temperature: 0}
            )) {
                for (const [token, probability] of output.probabilities)
                    probabilities[token] = probability;
                break;
            }
            await context.dispose();
            return probabilities;
        } finally {
            await model.dispose();
        }
    }

    test.each<TensorType>(["F16", "Q8_0", "Q4_0"])("%s", async (type) => {
        const options = {...testModelOptions["tiny-f32"], tensorType: type};
        const quantizedPath = join(workDir, `${type}.gguf`);
        const exactPath = join(workDir, `${type}-as-f32.gguf`);
        const quantized = mixtralTensors(options);
        const exactF32 = quantized.map((tensor): GgufTensor => tensor.type !== type ? tensor : {
            ...tensor,
            type: "F32",
            data: function* () {
                for (const chunk of tensor.data())
                    yield roundTripThroughType(type, chunk);
            }
        });
        await writeGguf(quantizedPath, mixtralMetadata(options), quantized);
        await writeGguf(exactPath, mixtralMetadata({...options, tensorType: "F32"}), exactF32);

        const expected = await nextTokenProbabilities(exactPath);
        const actual = await nextTokenProbabilities(quantizedPath);
        const totalVariation = expected.reduce((sum, p, token) => sum + Math.abs(p - actual[token]!), 0) / 2;
        expect(totalVariation).toBeLessThan(0.03);
        expect(actual.indexOf(Math.max(...actual))).toBe(expected.indexOf(Math.max(...expected)));
    });
});
