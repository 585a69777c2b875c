import {describe, expect, test} from "vitest";
import {ThreadPolicy, type ThreadSwitchEvent} from "../../src/engine/native/threadPolicy.js";
import {availableCoresBetween, CpuLoad, type CpuCounters} from "../../src/hardware/cpuLoad.js";
import {describeThreadSwitch} from "../../src/cli/describeThreadSwitch.js";

/** A native context that only records the thread counts it is given. */
function fakeNative() {
    const set: number[] = [];
    return {set, native: {setThreads: (threads: number) => void set.push(threads)}};
}

/** Free cores as the counters would report them: `cores(ms)` for the window ending at `ms`. */
function fakeLoad(cores: (ms: number) => number | undefined) {
    return {sample: (ms: number) => cores(ms)};
}

/** Decodes `tokens` one-token steps as the direct loop does, each `ms` long on a clock that the policy reads. */
function decode(policy: ThreadPolicy, clock: {ms: number}, tokens: number, ms: (threads: number) => number, width = 1) {
    const threads = policy.tokenThreads(width)!;
    const used: number[] = [];
    threads.startLoop();
    for (let step = 0; step < tokens; step++) {
        const count = threads.next();
        policy.use(count);
        used.push(count);
        clock.ms += ms(count);
        threads.record(count, ms(count));
    }
    return used;
}

describe("the thread policy of a context", () => {
    test("other processes holding the cores at the start: generation starts at 1 thread, and --verbose hears of it", () => {
        const {set, native} = fakeNative();
        const clock = {ms: 0};
        const policy = new ThreadPolicy(native, 2, fakeLoad(() => 1.1), () => clock.ms);
        const changes: ThreadSwitchEvent[] = [];
        policy.onSwitch = (change) => changes.push(change);
        const used = decode(policy, clock, 64, (threads) => threads === 1 ? 3 : 70);
        expect(used.every((threads) => threads === 1)).toBe(true);
        expect(set).toEqual([1]);
        expect(changes).toEqual([{from: 2, to: 1, reason: "load", width: 1}]);
        expect(describeThreadSwitch(changes[0]!)).toBe("threads: generation 2 → 1, other processes are using the CPU cores; --threads fixes the count.");
    });

    test("the load eases: the counters' new reading lets a probe of 2 threads win, and the context runs 2 again", () => {
        const {set, native} = fakeNative();
        const clock = {ms: 0};
        let free = 1.0;
        const policy = new ThreadPolicy(native, 2, fakeLoad(() => free), () => clock.ms);
        const changes: ThreadSwitchEvent[] = [];
        policy.onSwitch = (change) => changes.push(change);
        decode(policy, clock, 100, (threads) => threads === 1 ? 3 : 70);
        free = 2;
        const used = decode(policy, clock, 100, (threads) => threads === 1 ? 3 : 1.5);
        // 2 threads from the probe on, but for a later probe of 1 thread (one token: it loses at once).
        expect(used.slice(2, 60).every((threads) => threads === 2)).toBe(true);
        expect(used.slice(2).filter((threads) => threads === 1).length).toBeLessThanOrEqual(1);
        expect(changes.at(-1)).toMatchObject({from: 1, to: 2, reason: "faster", width: 1});
        expect(set.at(-1)).toBe(2);
    });

    test("each batch width has its own timings, and every one hears the load", () => {
        const {native} = fakeNative();
        const clock = {ms: 0};
        const policy = new ThreadPolicy(native, 4, fakeLoad(() => 4), () => clock.ms);
        decode(policy, clock, 50, (threads) => 8 / threads, 1);
        decode(policy, clock, 50, (threads) => 20 / threads, 4);
        const loaded = new ThreadPolicy(native, 4, fakeLoad(() => 2.2), () => clock.ms);
        expect(decode(loaded, clock, 5, (threads) => 8 / threads, 4)[0]).toBe(2);
    });

    test("prompt batches run on the cores other processes leave, unless --threads says", () => {
        const {native} = fakeNative();
        expect(new ThreadPolicy(native, 8, fakeLoad(() => 2.7)).promptThreads()).toBe(2);
        expect(new ThreadPolicy(native, 8, fakeLoad(() => 7.8)).promptThreads()).toBe(8);
        expect(new ThreadPolicy(native, 2, fakeLoad(() => 0.3)).promptThreads()).toBe(1);
        // No reading yet (too short a window): all of them.
        expect(new ThreadPolicy(native, 4, fakeLoad(() => undefined)).promptThreads()).toBe(4);
        const pinned = new ThreadPolicy(native, 2, fakeLoad(() => 0.3));
        pinned.keepUserThreads();
        expect(pinned.promptThreads()).toBe(2);
    });

    test("--threads: no adapting and no timing", () => {
        const {native} = fakeNative();
        const policy = new ThreadPolicy(native, 2, fakeLoad(() => 0.5));
        policy.keepUserThreads();
        expect(policy.tokenThreads(1)).toBeUndefined();
    });
});

describe("cores left free by other processes", () => {
    /** Counters of a 2-core machine. */
    const at = (wallMs: number, busyMs: number, ownMs: number): CpuCounters => ({wallMs, busyMs, ownMs, cores: 2});

    test("all cores less the time other processes ran (the cores' busy time less ours), over the window", () => {
        // Quiet, us on 1 thread: 1 core ours, 1 idle.
        expect(availableCoresBetween(at(0, 0, 0), at(1000, 1000, 1000))).toBeCloseTo(2);
        // Two busy loops: both cores busy, 0.7 of a core ours.
        expect(availableCoresBetween(at(0, 5000, 100), at(1000, 7000, 800))).toBeCloseTo(0.7);
        // Loading a model from disk: little CPU time at all (waiting for the disk is not busy).
        expect(availableCoresBetween(at(0, 0, 0), at(1000, 300, 250))).toBeCloseTo(1.95);
        // Too short a window for the kernel's 10 ms ticks: no reading.
        expect(availableCoresBetween(at(0, 0, 0), at(50, 50, 50))).toBeUndefined();
    });

    test("successive readings report the window since the previous report, at most every 200 ms", () => {
        const readings = [at(0, 0, 0), at(300, 0, 0), at(900, 1200, 600)];
        let index = 0;
        const load = new CpuLoad(() => readings[index++]!);
        expect(load.sample(100)).toBeUndefined();
        expect(load.sample(300)).toBeCloseTo(2);
        expect(load.sample(400)).toBeUndefined();
        expect(load.sample(900)).toBeCloseTo(1);
    });
});
