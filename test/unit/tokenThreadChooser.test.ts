import {describe, expect, test} from "vitest";
import {TokenThreadChooser, type ThreadSwitch} from "../../src/engine/native/tokenThreadChooser.js";
import {mulberry32} from "../../src/bench/mulberry32.js";

/**
 * One-token decode times (ms) by thread count. "Recorded": timed on this project's 2-vCPU machine
 * through `complete`'s token loop. "From measurements": sequences with the medians and outliers
 * reported in tokenThreadChooser.ts's comment, issue 14 and issue 21.
 */
const recorded = {
    /** Recorded: the 0.5M-parameter test model (tiny-q8_0) at load average 40; every 2-thread token collapsed. */
    tinyLoaded: {
        1: [0.454, 0.319, 0.448, 12.284, 0.283, 3.401, 0.324, 0.293, 9.372, 0.338, 0.419, 0.313, 0.333, 0.313, 0.403],
        2: [339.301, 1334.485, 679.64, 58.503, 1339.634, 479.176, 1424.691, 1387.241, 1495.741, 1902.008]
    },
    /** From measurements: the same model on a quiet machine, ~0.07 ms at 1 thread, 2-thread tokens ~0.2 ms or ~12 ms (collapsed). */
    tinyQuiet: {
        1: [0.07, 0.08, 0.06, 0.07, 0.09, 0.07, 0.06, 0.08],
        2: [12.1, 11.8, 0.21, 12.4, 0.19, 11.9, 12.6, 0.22, 12.0, 0.2]
    },
    /** From measurements: one layer at Mixtral's real width (0.8 GB Q4_0), issue 14's 15–25 ms a token, one noisy 2-thread sample. */
    realWidth: {
        1: [31.5, 36.2, 29.8, 44.1, 33.0],
        2: [17.2, 19.5, 61.3, 16.8, 22.4, 24.9, 18.1, 15.6, 20.3, 17.7, 23.5, 19.0]
    },
    /** From measurements: the 212M-parameter model on a quiet machine, 2 threads ~700 tok/s, 1 thread ~350. */
    model212mQuiet: {
        1: [2.9, 3.0, 2.8, 3.1, 2.9],
        2: [1.4, 1.5, 1.3, 1.45, 1.6, 1.35, 1.4, 1.5]
    },
    /** Recorded: the 212M model on a quiet machine on another day, 1 thread only ~1.35× slower than 2 (under abortFactor). */
    model212mQuietClose: {
        1: [2.75, 2.97, 2.74, 2.65, 2.71, 2.63],
        2: [2.63, 2.20, 2.25, 2.07, 2.04, 1.94, 2.05, 2.96, 1.97, 2.11, 1.93, 1.96, 2.00, 1.96, 1.84, 1.98, 1.87, 1.95]
    },
    /** From measurements: the 212M model while two other processes busy-loop on the 2 cores (issue 21: 14 vs 338 tok/s). */
    model212mBusy: {
        1: [2.9, 3.1, 2.8, 3.6, 2.9, 3.0, 4.1, 2.9],
        2: [48.2, 120.5, 31.7, 96.4, 62.0, 8.1, 140.3, 55.6, 77.9, 40.2]
    }
};

type Timings = Record<number, number[]>;
type Run = {used: number[], switches: ThreadSwitch[]};

/**
 * Runs `tokens` one-token decodes through the chooser as a driver does (startLoop, then next/record),
 * taking each decode's time from `timings` (by the count chosen, cycling through its list, or a
 * function of the count and the step), and telling it the free cores when `load` says.
 */
function generate(chooser: TokenThreadChooser, timings: Timings | ((threads: number, step: number) => number), tokens: number,
    load?: (step: number) => number | undefined): Run {
    const next: Record<number, number> = {};
    const run: Run = {used: [], switches: []};
    chooser.onSwitch = (change) => run.switches.push(change);
    const timeOf = (threads: number, step: number) => {
        if (typeof timings === "function") return timings(threads, step);
        const list = timings[threads];
        if (list == null) throw new Error(`no timings for ${threads} threads`);
        next[threads] = (next[threads] ?? 0) + 1;
        return list[(next[threads]! - 1) % list.length]!;
    };
    for (let step = 0; step < tokens; step++) {
        const available = load?.(step);
        if (available != null) chooser.observeLoad(available);
        if (step === 0) chooser.startLoop();
        const threads = chooser.next();
        run.used.push(threads);
        chooser.record(threads, timeOf(threads, step));
    }
    return run;
}

const count = (used: number[], threads: number) => used.filter((value) => value === threads).length;

/** Lognormal-ish jitter around `ms` with an isolated 3–5x outlier one token in 25: a healthy but noisy machine. */
function noisy(seed: number, msByThreads: Record<number, number>) {
    const random = mulberry32(seed);
    return (threads: number) => {
        const jitter = Math.exp((random() + random() + random() - 1.5) * 0.35);
        const outlier = random() < 1 / 25 ? 3 + 2 * random() : 1;
        return msByThreads[threads]! * jitter * outlier;
    };
}

describe("adaptive thread count for generated tokens", () => {
    test("a collapse: when two busy processes start mid-answer, it steps down within a few tokens and stays there", () => {
        const onset = 100;
        const run = generate(TokenThreadChooser.adaptive(2), (threads, step) =>
            step < onset ? recorded.model212mQuiet[threads as 1 | 2][step % 5]! : recorded.model212mBusy[threads as 1 | 2][step % 8]!, 400);
        expect(run.used.slice(onset - 10, onset)).toEqual(Array(10).fill(2));
        // Two or three collapsed tokens show it; the 1-thread probe's three tokens and one more at 2 threads decide.
        const firstOne = run.used.indexOf(1, onset);
        expect(firstOne - onset).toBeLessThanOrEqual(3);
        expect(run.used.slice(firstOne, firstOne + 3)).toEqual([1, 1, 1]);
        expect(run.switches).toEqual([{from: 2, to: 1, reason: "collapse", fromMs: expect.any(Number), toMs: expect.any(Number)}]);
        // Later probes of 2 threads (the counters lag, none here) cost one collapsed token each, and get rarer.
        const probesOfTwo = run.used.slice(firstOne + 4);
        expect(count(probesOfTwo, 2)).toBeLessThanOrEqual(6);
        expect(count(probesOfTwo.slice(-150), 2)).toBeLessThanOrEqual(1);
    });

    test("a recovery: once the other processes end, the probes of 2 threads win and it climbs back", () => {
        const chooser = TokenThreadChooser.adaptive(2);
        const end = 150;
        // Busy from the start (the counters say 1 free core): 1 thread at once, not one collapsed token.
        const run = generate(chooser, (threads, step) =>
            step < end ? recorded.model212mBusy[threads as 1 | 2][step % 8]! : recorded.model212mQuiet[threads as 1 | 2][step % 5]!, 400,
        (step) => step < end ? 0.9 : 2);
        expect(run.used.slice(0, end).every((threads) => threads === 1)).toBe(true);
        expect(run.switches[0]).toMatchObject({from: 2, to: 1, reason: "load"});
        const backAt = run.used.indexOf(2, end);
        expect(backAt).toBeGreaterThan(0);
        expect(backAt - end).toBeLessThanOrEqual(TokenThreadChooser.upInterval + TokenThreadChooser.probeSamples);
        expect(run.switches.at(-1)).toMatchObject({from: 1, to: 2, reason: "faster"});
        expect(run.used.slice(-100).filter((threads) => threads === 1).length).toBeLessThanOrEqual(2);
    });

    test("without counters, a recovery is still found by the probes while 1 thread is used", () => {
        const chooser = TokenThreadChooser.adaptive(2);
        const end = 120;
        const run = generate(chooser, (threads, step) =>
            step < end ? recorded.model212mBusy[threads as 1 | 2][step % 8]! : recorded.model212mQuiet[threads as 1 | 2][step % 5]!, 600);
        expect(run.used[end]).toBe(1);
        expect(run.used.slice(-50).every((threads) => threads === 2)).toBe(true);
    });

    test("a noisy but healthy run does not flap: no switch, and the probes of 1 thread get rarer", () => {
        for (const seed of [1, 2, 3, 4, 5]) {
            const run = generate(TokenThreadChooser.adaptive(2), noisy(seed, {1: 2.9, 2: 1.4}), 3000, () => 1.95);
            expect(run.switches, `seed ${seed}`).toEqual([]);
            // Probes at 3, then 64, 128, 256, 512, 1024, 1024 tokens on: one 1-thread token each,
            // and a burst of two outliers is timed at 1 thread and found to be a burst: ~1% of the tokens.
            expect(count(run.used, 1), `seed ${seed}`).toBeLessThanOrEqual(40);
        }
    });

    test("a noisy run with bursts of slow tokens switches a bounded number of times", () => {
        const random = mulberry32(7);
        // Every 40 tokens a 2-token burst, 5x slow at either count (another process woke up): the worst case for the collapse rule.
        const run = generate(TokenThreadChooser.adaptive(2), (threads, step) =>
            (threads === 1 ? 2.9 : 1.4) * (1 + 0.2 * random()) * (step % 40 < 2 ? 5 : 1), 4000);
        expect(run.switches.length).toBeLessThanOrEqual(12);
        expect(count(run.used, 2) / run.used.length).toBeGreaterThan(0.85);
    });

    test("busy from the start, as the counters say: 64 tokens at 1 thread and not one at 2", () => {
        const run = generate(TokenThreadChooser.adaptive(2), recorded.model212mBusy, 64, () => 1.05);
        expect(run.used.every((threads) => threads === 1)).toBe(true);
    });

    test("busy from the start without counters: the early probe finds 1 thread within the first tokens", () => {
        const run = generate(TokenThreadChooser.adaptive(2), recorded.model212mBusy, 64);
        expect(run.used.indexOf(1)).toBeLessThanOrEqual(4);
        expect(count(run.used, 2)).toBeLessThanOrEqual(6);
    });

    test("the test model whose 2-thread tokens collapse on a quiet machine (no spike to see) settles on 1 thread", () => {
        const run = generate(TokenThreadChooser.adaptive(2), recorded.tinyQuiet, 256);
        expect(run.used.slice(4, 7)).toEqual([1, 1, 1]);
        expect(run.switches).toMatchObject([{from: 2, to: 1, reason: "faster"}]);
        // After the start, 2 threads only in probes of one token (aborted: 12 ms against 0.07).
        expect(count(run.used.slice(7), 2)).toBeLessThanOrEqual(4);
    });

    test("the test model at load average 40 with every 2-thread token collapsed: 1 thread after one probe", () => {
        const run = generate(TokenThreadChooser.adaptive(2), recorded.tinyLoaded, 64);
        // The warm-up and three timed tokens at 2 threads, then 1 thread with one probe of 2.
        expect(run.used.slice(4, 36).every((threads) => threads === 1)).toBe(true);
        expect(count(run.used, 2)).toBeLessThanOrEqual(5);
    });

    test("real-width timings with a noisy sample keep 2 threads; a probe of 1 thread costs one token", () => {
        const run = generate(TokenThreadChooser.adaptive(2), recorded.realWidth, 128, () => 2);
        expect(run.switches).toEqual([]);
        expect(count(run.used, 1)).toBeLessThanOrEqual(2);
    });

    test("the 212M model on a quiet machine: 2 threads, one 1-thread token in a 64-token answer", () => {
        const run = generate(TokenThreadChooser.adaptive(2), recorded.model212mQuiet, 64, () => 2);
        expect(count(run.used, 1)).toBe(1);
        expect(run.switches).toEqual([]);
    });

    test("the 212M model where 1 thread is only 1.35× slower: a probe of 1 thread still costs one token, not three", () => {
        const run = generate(TokenThreadChooser.adaptive(2), recorded.model212mQuietClose, 64, () => 2);
        expect(count(run.used, 1)).toBe(1);
        expect(run.switches).toEqual([]);
    });

    test("8 threads collapsing: the probe goes on down past 4 (collapsing too) and switches to 2", () => {
        // Six other processes busy on 8 cores: 2 threads fit, more collapse.
        const ms = (threads: number, step: number) => step < 50 ? 20 / threads : (threads <= 2 ? 12 : 400);
        const run = generate(TokenThreadChooser.adaptive(8), ms, 200);
        expect(run.switches).toMatchObject([{from: 8, to: 2, reason: "collapse"}]);
        const after = run.used.slice(run.used.indexOf(2));
        // Probes of 4 cost one token each; of 1 (12 ms, not faster) three.
        expect(count(after, 2) / after.length).toBeGreaterThan(0.9);
    });

    test("an alternating load cannot flip the choice often: each switch doubles the wait before the next probe", () => {
        const chooser = TokenThreadChooser.adaptive(2);
        // Whichever count is in use is twice as slow as the other would be: every probe wins.
        const switchedAt: number[] = [];
        chooser.onSwitch = () => switchedAt.push(step);
        let step = 0;
        for (; step < 8000; step++) {
            if (step === 0) chooser.startLoop();
            const threads = chooser.next();
            chooser.record(threads, threads === chooser.current ? 4 : 2);
        }
        const gaps = switchedAt.slice(1).map((at, index) => at - switchedAt[index]!);
        expect(gaps.slice(0, 5)).toEqual([...gaps.slice(0, 5)].sort((a, b) => a - b));
        expect(Math.min(...gaps.slice(5))).toBeGreaterThanOrEqual(500);
        expect(switchedAt.length).toBeLessThanOrEqual(16);
    });

    test("a new loop's first decode is not timed", () => {
        const chooser = TokenThreadChooser.adaptive(2);
        generate(chooser, recorded.realWidth, 10, () => 2);
        chooser.startLoop();
        // A 500 ms first token after a prompt batch would otherwise count as a slow token.
        chooser.record(chooser.next(), 500);
        chooser.record(chooser.next(), 501);
        expect(chooser.next()).toBe(2);
    });

    test("a loop that starts while other processes hold the cores starts at the count that fits", () => {
        const chooser = TokenThreadChooser.adaptive(4);
        generate(chooser, (threads) => 10 / threads, 100, () => 4);
        expect(chooser.current).toBe(4);
        const switches: ThreadSwitch[] = [];
        chooser.onSwitch = (change) => switches.push(change);
        chooser.observeLoad(1.2);
        chooser.startLoop();
        expect(chooser.next()).toBe(1);
        expect(switches).toEqual([{from: 4, to: 1, reason: "load"}]);
    });

    test("a thread count the user chose is used for every token without measuring", () => {
        const chooser = TokenThreadChooser.fixedAt(4);
        const run = generate(chooser, () => 1000, 64, () => 0.5);
        expect(run.used.every((threads) => threads === 4)).toBe(true);
        expect(run.switches).toEqual([]);
    });
});
