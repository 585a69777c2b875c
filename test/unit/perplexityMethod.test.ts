import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {BaseLogitsWriter, baseLogitsFileBytes, openBaseLogits} from "../../src/quality/baseLogitsFile.js";
import {chunkTokens, planChunks} from "../../src/quality/chunkPlan.js";
import {compareWithBase, emptyKldSums, quantizeRow, rowLength, topToken} from "../../src/quality/positionMath.js";
import {finalEstimate, fixed, kldTableLine, runningPerplexity} from "../../src/quality/printers.js";
import {kldChunkLine, NllSums} from "../../src/quality/perplexityStatistics.js";
import {UsageError} from "../../src/errors.js";
import {Mt19937, uniformBelow} from "../../src/quality/mt19937.js";
import {selectHellaswagTasks, wilsonInterval} from "../../src/quality/hellaswag.js";

function softmax(logits: number[]): Float32Array {
    const max = Math.max(...logits);
    const exps = logits.map((logit) => Math.exp(logit - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    return Float32Array.from(exps.map((value) => value / sum));
}

describe("llama-perplexity's chunking", () => {
    it("cuts the text into whole n_ctx chunks, scores each second half, and decodes b/c chunks together", () => {
        expect(planChunks({tokenCount: 1300, contextSize: 512, batchSize: 2048})).toEqual({
            contextSize: 512, batchSize: 2048, chunkCount: 2, sequences: 4, first: 256, scoredPerChunk: 255
        });
        expect(planChunks({tokenCount: 5000, contextSize: 512, batchSize: 256, chunks: 3})).toMatchObject({chunkCount: 3, sequences: 1, batchSize: 256});
    });

    it("refuses a text shorter than two chunks, and a -b that neither divides into chunks nor fits in one", () => {
        expect(() => planChunks({tokenCount: 1023, contextSize: 512, batchSize: 2048})).toThrow(/only 1023 tokens.*needs at least 1024/);
        expect(() => planChunks({tokenCount: 5000, contextSize: 512, batchSize: 700})).toThrow(UsageError);
    });

    it("puts BOS in place of each chunk's first token, leaving the text's tokens as they were", () => {
        const tokens = Uint32Array.from({length: 12}, (_, index) => 100 + index);
        expect([...chunkTokens(tokens, 1, 4, 1)]).toEqual([1, 105, 106, 107]);
        expect([...chunkTokens(tokens, 2, 4, undefined)]).toEqual([108, 109, 110, 111]);
        expect(tokens[4]).toBe(104);
    });
});

describe("the base-logits row and the KL divergence read from it", () => {
    const vocabulary = 7;
    const logits = [2.5, -1, 0.3, 4, -20, 1.2, 0];
    const probabilities = softmax(logits);

    it("quantizes log-probabilities within 16 nats of the best to 0…65535 and returns −log p(token)", () => {
        const row = new Uint16Array(rowLength(vocabulary));
        const nll = quantizeRow(probabilities, 2, row, new Float32Array(vocabulary));
        expect(rowLength(vocabulary)).toBe(12);
        expect(nll).toBeCloseTo(-Math.log(probabilities[2]!), 5);
        const [scale, minLogProbability] = new Float32Array(row.buffer, 0, 2);
        // The best token is at the top of the scale, the one 24 nats below it clipped to the floor.
        expect(row[4 + 3]).toBe(65535);
        expect(row[4 + 4]).toBe(0);
        expect(scale! * row[4 + 0]! + minLogProbability!).toBeCloseTo(Math.log(probabilities[0]!), 3);
    });

    it("finds no divergence between a distribution and its own row, and the analytic KL for another", () => {
        const row = new Uint16Array(rowLength(vocabulary));
        quantizeRow(probabilities, 3, row, new Float32Array(vocabulary));
        const same = emptyKldSums();
        expect(compareWithBase(probabilities, row, 3, same).kld).toBeCloseTo(0, 3);
        expect(same.sameTop).toBe(1);

        const other = softmax([2.5, -1, 3.3, 1, -20, 1.2, 0]);
        const sums = emptyKldSums();
        const {kld, pDiff} = compareWithBase(other, row, 3, sums);
        let expected = 0;
        for (let i = 0; i < vocabulary; i++) if (Math.log(probabilities[i]!) > -16) expected += probabilities[i]! * Math.log(probabilities[i]! / other[i]!);
        expect(kld).toBeCloseTo(expected, 3);
        expect(pDiff).toBeCloseTo(other[3]! - probabilities[3]!, 3);
        expect(topToken(other)).toBe(2);
        expect(sums.sameTop).toBe(0);
    });
});

describe("the base-logits file", () => {
    it("reads back what it wrote, and a discarded write leaves nothing behind", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "mixtral-kld-"));
        try {
            const shape = {contextSize: 8, vocabularySize: 5, chunkCount: 2};
            const tokens = Int32Array.from({length: 16}, (_, index) => index % 5);
            const file = path.join(dir, "base.kld");
            const writer = await BaseLogitsWriter.create(file, shape, tokens);
            const rows = Uint16Array.from({length: 3 * rowLength(5)}, (_, index) => index);
            await writer.writeRows(rows);
            await writer.writeRows(rows);
            expect(await fs.readdir(dir)).toEqual(["base.kld.partial"]);
            await writer.commit();
            expect((await fs.stat(file)).size).toBe(baseLogitsFileBytes(shape));
            const reader = await openBaseLogits(file);
            expect([reader.contextSize, reader.vocabularySize, reader.chunkCount]).toEqual([8, 5, 2]);
            expect([...reader.tokens]).toEqual([...tokens]);
            expect([...await reader.readRows(1)]).toEqual([...rows]);
            await reader.close();

            const discarded = await BaseLogitsWriter.create(path.join(dir, "other.kld"), shape, tokens);
            await discarded.discard();
            expect(await fs.readdir(dir)).toEqual(["base.kld"]);
        } finally {
            await fs.rm(dir, {recursive: true, force: true});
        }
    });
});

describe("llama-perplexity's printed lines", () => {
    it("prints the running values, the final estimate and a KL-divergence table line with its widths", () => {
        expect(runningPerplexity(3, 12.345678)).toBe("[3]12.3457,");
        expect(finalEstimate({ppl: 4.41923, pplUncertainty: 0.0234567, count: 100})).toBe("Final estimate: PPL = 4.4192 +/- 0.02346");
        expect(fixed(-0.5, 10, 5)).toBe("  -0.50000");
        const sums = new NllSums();
        for (const nll of [1, 2, 3]) sums.add(nll);
        expect(sums.ppl).toBeCloseTo(Math.exp(2), 10);
        expect(sums.final()!.pplUncertainty).toBeCloseTo(Math.exp(2) * Math.sqrt((14 / 3 - 4) / 2), 10);
        const line = kldTableLine(kldChunkLine(1, {...emptyKldSums(), sumNll: 2, sumNll2: 4, sumNllBase: 2, sumNllBase2: 4, sumNllNllBase: 4,
            sumKld: 0.02, sumKld2: 0.0004, sumPDiff2: 0.0001, sumPDiff4: 1e-8, sameTop: 1, count: 2}));
        expect(line).toBe("   1       2.7183 ±    0.0000       0.00000 ±    0.00000       0.01000 ±    0.00000     0.707 ±  0.000 %    50.000 ± 50.000 %");
    });
});

describe("hellaswag's task picks", () => {
    it("draws as std::mt19937 and libstdc++'s uniform_int_distribution do", () => {
        // The C++ standard's check value: the 10000th output of a default-seeded (5489) mt19937.
        const standard = new Mt19937(5489);
        let value = 0;
        for (let i = 0; i < 10000; i++) value = standard.next();
        expect(value).toBe(4123659995);
        expect(new Mt19937(1).next()).toBe(1791095845);
        const rng = new Mt19937(1);
        const draws = Array.from({length: 1000}, () => uniformBelow(rng, 7));
        expect(Math.min(...draws)).toBe(0);
        expect(Math.max(...draws)).toBe(6);
    });

    it("takes 6 lines a task, removes each task once drawn, and refuses a file of another length", () => {
        const file = Array.from({length: 3}, (_, task) => [`context ${task}`, String(task % 4), "a", "b", "c", "d"].join("\n")).join("\n") + "\n";
        const tasks = selectHellaswagTasks(file, 10);
        expect(tasks.map((task) => task.context).sort()).toEqual(["context 0", "context 1", "context 2"]);
        expect(tasks.find((task) => task.context === "context 2")).toEqual({context: "context 2", gold: 2, endings: ["a", "b", "c", "d"]});
        expect(() => selectHellaswagTasks("one\ntwo\n", 1)).toThrow(/6 lines a task; this one has 2 lines/);
        const [lower, upper] = wilsonInterval(1, 1);
        expect(lower).toBeCloseTo(0.206549, 5);
        expect(upper).toBeCloseTo(1, 10);
    });
});
