import {describe, expect, it} from "vitest";
import {judgeBiasedRead, largestBias, probabilityFromBiasedConfidence} from "../../src/engine/score/biasedConfidence.js";

/** What the binding computes: a greedy choice under a bias on `target`, its float32 softmax confidence. */
function biasedRead(logits: number[], target: number, bias: number) {
    const biased = logits.map((logit, token) => Math.fround(logit + (token === target ? bias : 0)));
    let chosen = 0;
    for (let i = 1; i < biased.length; i++) if (biased[i]! > biased[chosen]!) chosen = i;
    let sum = Math.fround(0);
    // The binding sorts the candidates, largest first, and sums in that order.
    for (const logit of [...biased].sort((a, b) => b - a)) sum = Math.fround(sum + Math.fround(Math.exp(logit - biased[chosen]!)));
    return {chosen: chosen === target, confidence: Math.fround(1 / sum)};
}

function exactProbability(logits: number[], target: number) {
    const max = Math.max(...logits);
    const total = logits.reduce((sum, logit) => sum + Math.exp(logit - max), 0);
    return Math.exp(logits[target]! - max) / total;
}

/** The scorer's loop (engine/score/chunkScorer.ts) on a simulated binding: the probability and the reads it took. */
function settle(logits: number[], target: number, startBias: number) {
    let bias = startBias;
    const trail: string[] = [];
    for (let reads = 1; reads <= 8; reads++) {
        const read = biasedRead(logits, target, bias);
        trail.push(`${bias.toFixed(2)}:${read.chosen}:${read.confidence}`);
        const verdict = judgeBiasedRead(read, bias);
        if ("probability" in verdict) return {probability: verdict.probability, reads};
        bias = verdict.nextBias;
    }
    throw new Error(`no bias settled: exact ${exactProbability(logits, target)}, start ${startBias}, trail ${trail.join(" ")}`);
}

function randomLogits(size: number, spread: number, seed: number) {
    let state = seed;
    const next = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
    return Array.from({length: size}, () => (next() - 0.5) * spread);
}

describe("a token's probability from a biased greedy read", () => {
    it("inverts the biased softmax exactly", () => {
        for (const [p, bias] of [[0.3, 0], [1e-5, 11], [1e-9, 25], [0.999, 2]] as const) {
            const scaled = p * Math.exp(bias);
            const confidence = scaled / (1 - p + scaled);
            expect(probabilityFromBiasedConfidence(confidence, bias) / p).toBeCloseTo(1, 12);
        }
    });

    it("settles within 5e-4 of the exact probability from any start, on flat and peaked distributions", () => {
        for (const [spread, seed] of [[0.5, 1], [4, 2], [20, 3], [40, 4]] as const) {
            const logits = randomLogits(32000, spread, seed);
            for (const target of [0, 17, 31999]) for (const start of [0, 10.4, 30, largestBias]) {
                const {probability, reads} = settle(logits, target, start);
                expect(Math.abs(probability / exactProbability(logits, target) - 1), `spread ${spread} target ${target} start ${start}`).toBeLessThan(5e-4);
                // Starts up to 80 nats off (the scorer starts near the answer: see the next test).
                expect(reads).toBeLessThanOrEqual(6);
            }
        }
    });

    it("reads once when the start is near the answer (a start at most ~1 nat above the token's −ln p)", () => {
        const logits = randomLogits(32000, 1, 9);
        const exact = exactProbability(logits, 5);
        expect(settle(logits, 5, -Math.log(exact) + 0.5).reads).toBe(1);
    });

    it("takes an unbiased read as it is, however close to 1 (nothing to invert)", () => {
        expect(judgeBiasedRead({chosen: true, confidence: 0.999999}, 0)).toEqual({probability: 0.999999});
    });

    it("asks for a larger bias when another token wins, and a smaller one when the confidence rounds to 1", () => {
        expect(judgeBiasedRead({chosen: false, confidence: 0.9}, 4)).toEqual({nextBias: 10});
        const overshoot = judgeBiasedRead({chosen: true, confidence: 1}, 40);
        expect("nextBias" in overshoot && overshoot.nextBias).toBeLessThan(40);
    });
});
