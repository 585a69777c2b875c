import os from "node:os";

/*
 * Two views of what other work leaves us: the run-queue average (os.loadavg, for doctor's advice
 * before anything runs) and the CPU counters (for generation's thread count, while it runs).
 */

/** The run-queue averages (os.loadavg): runnable tasks over the last 1 and 15 minutes. */
export type LoadAverage = {oneMinute: number, fifteenMinutes: number};

/** What the current load leaves a model that runs `threads` threads on `cores` usable cores. */
export type LoadVerdict = LoadAverage & {
    cores: number,
    threads: number,
    /**
     * The part of the CPU time the model's threads would get beside the work running now: the
     * cores shared among everything runnable (the load, plus the model's own threads), at most 1.
     */
    shareForModel: number,
    /** Other work holds a third of the CPU time or more: worth saying beside any speed figure. */
    busy: boolean
};

/** Below this share the load changes the speed enough to say so. */
const busyShare = 2 / 3;

/** This machine's load, undefined where the OS keeps none (Windows reports zeros). */
export function probeLoad(platform: NodeJS.Platform = process.platform, loadavg: () => number[] = os.loadavg): LoadAverage | undefined {
    if (platform === "win32") return undefined;
    const [oneMinute = 0, , fifteenMinutes = 0] = loadavg();
    return {oneMinute, fifteenMinutes};
}

/**
 * llama.cpp's threads meet at a barrier after every operation, so a token advances only as fast as
 * its most-delayed thread: with other work runnable, the threads take turns with it, and decode
 * gets at most its share of the cores (slower still when one thread waits for a time slice).
 */
export function loadVerdict(load: LoadAverage, cores: number, threads: number): LoadVerdict {
    const runnable = load.oneMinute + threads;
    const shareForModel = Math.min(1, cores / runnable);
    return {...load, cores, threads, shareForModel, busy: shareForModel <= busyShare};
}


/**
 * How many cores this process could have used over a stretch of time: all cores less the time
 * other processes ran (the cores' busy time less ours), from counters (os.cpus()' per-core times
 * and process.cpuUsage()), so no sampling thread and nothing Linux-only. With two busy-looping
 * processes on two cores this says about 1 whatever we run (they get at least the core we leave),
 * quiet it says 2; on a big host shared with other work it says what is left over. Time waiting
 * for the disk (a model loading from a cold cache) is not counted as busy. It tells generation how many threads can run without waiting for a core
 * (see engine/native/tokenThreadChooser.ts), before a token has been timed.
 */

/** Cumulative counters at one moment, in milliseconds. */
export type CpuCounters = {
    /** Wall-clock time (any monotonic clock). */
    wallMs: number,
    /** Time the cores ran anything (user, nice, system, interrupts), summed over all cores. */
    busyMs: number,
    /** Cores the busy time is summed over. */
    cores: number,
    /** CPU time of this process (all its threads). */
    ownMs: number
};

/** The counters now; replaceable in tests. */
export function readCpuCounters(): CpuCounters {
    const cpus = os.cpus();
    let busyMs = 0;
    for (const {times} of cpus) busyMs += times.user + times.nice + times.sys + times.irq;
    const own = process.cpuUsage();
    return {wallMs: performance.now(), busyMs, cores: cpus.length, ownMs: (own.user + own.system) / 1000};
}

/** Cores this process could have used between two readings; undefined when too short to tell. */
export function availableCoresBetween(before: CpuCounters, after: CpuCounters, minWindowMs = CpuLoad.minWindowMs): number | undefined {
    const wall = after.wallMs - before.wallMs;
    // The kernel counts idle time in scheduler ticks (10 ms on Linux): a short window is mostly rounding.
    if (!(wall >= minWindowMs)) return undefined;
    const others = Math.max(0, (after.busyMs - before.busyMs) - (after.ownMs - before.ownMs)) / wall;
    const available = after.cores - others;
    return Number.isFinite(available) ? Math.max(0, available) : undefined;
}

/** Successive readings: each `sample()` reports the window since the last one it reported. */
export class CpuLoad {
    /** Shorter windows are not read (the tick rounding) and not reported (the cost of os.cpus()). */
    static readonly minWindowMs = 200;
    private last: CpuCounters;

    constructor(private readonly read: () => CpuCounters = readCpuCounters, start?: CpuCounters) {
        this.last = start ?? read();
    }

    /** Cores available since the previous report, once `minWindowMs` have passed; else undefined. */
    sample(nowMs: number): number | undefined {
        if (nowMs - this.last.wallMs < CpuLoad.minWindowMs) return undefined;
        const now = this.read();
        const available = availableCoresBetween(this.last, now);
        this.last = now;
        return available;
    }
}

/** Read when the engine is first imported: the first window then spans the model's load. */
export const countersAtStart = readCpuCounters();
