import os from "node:os";

/**
 * How many cores this process could have used over a stretch of time: the cores it did use plus
 * the machine's idle time, both from counters (os.cpus()' per-core times and process.cpuUsage()),
 * so no sampling thread and nothing Linux-only. With two busy-looping processes on two cores and
 * us on one thread this says 1, quiet it says 2; on a big host shared with other work it says
 * what is left over. It tells generation how many threads can run without waiting for a core
 * (see engine/native/tokenThreadChooser.ts), before a token has been timed.
 */

/** Cumulative counters at one moment, in milliseconds. */
export type CpuCounters = {
    /** Wall-clock time (any monotonic clock). */
    wallMs: number,
    /** Idle time summed over all cores. */
    idleMs: number,
    /** CPU time of this process (all its threads). */
    ownMs: number
};

/** The counters now; replaceable in tests. */
export function readCpuCounters(): CpuCounters {
    let idleMs = 0;
    for (const cpu of os.cpus()) idleMs += cpu.times.idle;
    const own = process.cpuUsage();
    return {wallMs: performance.now(), idleMs, ownMs: (own.user + own.system) / 1000};
}

/** Cores this process could have used between two readings; undefined when too short to tell. */
export function availableCoresBetween(before: CpuCounters, after: CpuCounters, minWindowMs = CpuLoad.minWindowMs): number | undefined {
    const wall = after.wallMs - before.wallMs;
    // The kernel counts idle time in scheduler ticks (10 ms on Linux): a short window is mostly rounding.
    if (!(wall >= minWindowMs)) return undefined;
    const available = (Math.max(0, after.idleMs - before.idleMs) + Math.max(0, after.ownMs - before.ownMs)) / wall;
    return Number.isFinite(available) ? available : undefined;
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
