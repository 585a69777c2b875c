import {describe, expect, test} from "vitest";
import {TokenThreadChooser} from "../../src/engine/native/tokenThreadChooser.js";

/**
 * One-token decode times (ms) at 1 and at the batch thread count. "Recorded": timed on this project's
 * 2-vCPU machine through `complete`'s token loop, alternating 1 and 2 threads. "From measurements":
 * sequences with the medians and outliers reported in tokenThreadChooser.ts's comment and issue 14.
 */
const recorded = {
    /** Recorded: the 0.5M-parameter test model (tiny-q8_0, 0.5 MB) at load average 40; every 2-thread token collapsed. */
    tinyLoaded: {
        one: [0.454, 0.319, 0.448, 12.284, 0.283, 3.401, 0.324, 0.293, 9.372, 0.338, 0.419, 0.313, 0.333, 0.313, 0.403],
        many: [339.301, 1334.485, 679.64, 58.503, 1339.634, 479.176, 1424.691, 1387.241, 1495.741, 1902.008]
    },
    /** From measurements: the same model on a quiet machine, ~0.07 ms at 1 thread, 2-thread tokens ~0.2 ms or ~12 ms (collapsed). */
    tinyQuiet: {
        one: [0.07, 0.08, 0.06, 0.07, 0.09, 0.07, 0.06, 0.08],
        many: [12.1, 11.8, 0.21, 12.4, 0.19, 11.9, 12.6, 0.22, 12.0, 0.2]
    },
    /** From measurements: one layer at Mixtral's real width (0.8 GB Q4_0), issue 14's 15–25 ms a token, one noisy 2-thread sample. */
    realWidth: {
        one: [31.5, 36.2, 29.8, 44.1, 33.0],
        many: [17.2, 19.5, 61.3, 16.8, 22.4, 24.9, 18.1, 15.6, 20.3, 17.7, 23.5, 19.0]
    },
    /** Recorded: that same file at load average 80, when 2-thread tokens were 5x slower than 1-thread ones. */
    realWidthOverloaded: {
        one: [143.533, 143.383, 160.368, 155.253, 159.609, 112.58, 145.469, 167.314, 163.639, 183.924],
        many: [1043.505, 811.923, 846.986, 944.174, 888.963, 691.415, 854.33, 701.42, 747.752, 911.89]
    },
    /** From measurements: the 212M-parameter model (114 MiB), ~2 ms tokens where 2 threads beat 1 (~470 vs ~350 tok/s). */
    model212m: {
        one: [2.9, 3.0, 2.8, 3.1, 2.9],
        many: [2.2, 2.1, 1.9, 2.3, 2.0, 2.1, 2.2, 2.0]
    }
};

const tinyBytes = 547_168;
const realWidthBytes = 825_978_880;
const bytes212m = 119_462_000;

type Timings = {one: number[], many: number[]};

/**
 * Runs `tokens` one-token decodes through the chooser, taking each decode's time from the recorded
 * list of the thread count it chose (in order, cycling). The first decode is the untimed warm-up.
 */
function generate(chooser: TokenThreadChooser, timings: Timings, tokens: number, threads = 2) {
    const next = {one: 0, many: 0};
    const used: number[] = [];
    for (let step = 0; step < tokens; step++) {
        const count = chooser.next();
        used.push(count);
        const list = count === 1 ? timings.one : timings.many;
        const key = count === 1 ? "one" : "many";
        expect([1, threads]).toContain(count);
        chooser.record(count, list[next[key]++ % list.length]!);
    }
    return {used, choice: chooser.choice, oneThreadTokens: used.filter((count) => count === 1).length};
}

describe("choosing the thread count for generated tokens", () => {
    test("the test model on a loaded machine settles on 1 thread after a single collapsed 2-thread token", () => {
        const result = generate(TokenThreadChooser.measuring(2, tinyBytes), recorded.tinyLoaded, 64);
        expect(result.choice).toBe(1);
        // Warm-up and the three 1-thread samples, then one 2-thread token far above their median.
        expect(result.used.slice(0, 6)).toEqual([1, 1, 1, 1, 2, 1]);
        expect(result.used.filter((count) => count === 2)).toHaveLength(1);
    });

    test("the test model on a quieter machine picks 1 thread on the medians", () => {
        const result = generate(TokenThreadChooser.measuring(2, tinyBytes), recorded.tinyQuiet, 64);
        expect(result.choice).toBe(1);
        expect(result.oneThreadTokens).toBeGreaterThan(56);
    });

    test("a model not known to be small but with a fast 2-thread token is compared too, and picks 1", () => {
        // The size gate off (an unknown size): the 0.21 ms token opens the comparison.
        const result = generate(TokenThreadChooser.measuring(2, Infinity), recorded.tinyQuiet, 64);
        expect(result.choice).toBe(1);
        expect(result.used.slice(0, 7)).toEqual([2, 2, 2, 1, 1, 1, 2]);
    });

    test("real-width timings with a noisy 2-thread sample keep 2 threads and never try 1", () => {
        const result = generate(TokenThreadChooser.measuring(2, realWidthBytes), recorded.realWidth, 128);
        expect(result.choice).toBe(2);
        expect(result.oneThreadTokens).toBe(0);
    });

    test("real-width timings on an overloaded machine never try 1 thread either (the load is not the model)", () => {
        const result = generate(TokenThreadChooser.measuring(8, realWidthBytes), recorded.realWidthOverloaded, 64, 8);
        expect(result.choice).toBe(8);
        expect(result.oneThreadTokens).toBe(0);
    });

    test("~2 ms tokens where 2 threads beat 1 are compared on medians and keep 2 threads", () => {
        const result = generate(TokenThreadChooser.measuring(2, bytes212m), recorded.model212m, 128);
        expect(result.choice).toBe(2);
        expect(result.oneThreadTokens).toBe(3);
    });

    test("one noisy 2-thread sample inside a comparison does not decide it: the medians do", () => {
        const noisy = {one: recorded.model212m.one, many: [2.2, 2.1, 1.9, 7.5, 2.0, 2.2, 2.1]};
        const result = generate(TokenThreadChooser.measuring(2, bytes212m), noisy, 64);
        expect(result.choice).toBe(2);
        expect(result.oneThreadTokens).toBe(3);
    });

    test("re-check: 2 threads kept after three collapsed tokens are compared again at the first fast one, and 1 wins", () => {
        const chooser = TokenThreadChooser.measuring(2, Infinity);
        const collapsedFirst = {one: recorded.tinyQuiet.one, many: [12.1, 11.8, 12.4, 11.9, 0.21, 12.0, 0.2]};
        // Warm-up and three slow tokens: 2 threads, as for any model whose tokens are not fast.
        generate(chooser, collapsedFirst, 4);
        expect(chooser.choice).toBe(2);
        const later = generate(chooser, {one: collapsedFirst.one, many: collapsedFirst.many.slice(3)}, 64);
        expect(later.choice).toBe(1);
    });

    test("re-check: after 1 thread won, 1-thread tokens slower than the 2-thread median start a new comparison, and 2 wins", () => {
        const chooser = TokenThreadChooser.measuring(2, tinyBytes);
        // The first comparison happened while 2-thread tokens collapsed: 1 thread wins.
        generate(chooser, {one: [0.3, 0.35, 0.32], many: [4.8, 4.5, 5.1]}, 5);
        expect(chooser.choice).toBe(1);
        // Then the 1-thread tokens turn slow (another process on that CPU) and 2 threads are fine again.
        const later = generate(chooser, {one: [6.2, 5.9, 6.4, 6.1], many: [0.4, 0.45, 0.42]}, 20);
        expect(later.choice).toBe(2);
        expect(later.used.slice(0, 6)).toEqual([1, 1, 1, 2, 2, 2]);
    });

    test("one slow token after a decision does not reopen the comparison: the re-check looks at a median", () => {
        const chooser = TokenThreadChooser.measuring(2, tinyBytes);
        generate(chooser, recorded.tinyLoaded, 16);
        expect(chooser.choice).toBe(1);
        const later = generate(chooser, {one: [0.3, 400, 0.31, 0.29, 0.3], many: [1000]}, 30);
        expect(later.used.every((count) => count === 1)).toBe(true);
    });

    test("re-checks are bounded, so an alternating load cannot flip the choice forever", () => {
        const chooser = TokenThreadChooser.measuring(2, tinyBytes);
        // Whichever count was just chosen turns slower than anything seen before.
        let chosen = 2;
        let slowMs = 10;
        const used: number[] = [];
        for (let step = 0; step < 400; step++) {
            const count = chooser.next();
            used.push(count);
            chooser.record(count, count === chosen ? slowMs : 1);
            if (chooser.choice != null && chooser.choice !== chosen) {
                chosen = chooser.choice;
                slowMs *= 2;
            }
        }
        expect(slowMs).toBeGreaterThan(10);
        const last = used.slice(-300);
        expect(new Set(last).size).toBe(1);
    });

    test("a new loop's first decode is not timed", () => {
        const chooser = TokenThreadChooser.measuring(2, Infinity);
        generate(chooser, recorded.realWidth, 10);
        chooser.startLoop();
        // A 0.1 ms first token after a prompt batch would otherwise open a comparison.
        chooser.record(chooser.next(), 0.1);
        expect(chooser.choice).toBe(2);
        expect(chooser.next()).toBe(2);
    });

    test("a thread count the user chose is used for every token without measuring", () => {
        const chooser = TokenThreadChooser.fixedAt(4);
        const result = generate(chooser, recorded.tinyLoaded, 32, 4);
        expect(result.choice).toBe(4);
        expect(result.used.every((count) => count === 4)).toBe(true);
    });
});
