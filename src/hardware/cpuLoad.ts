import os from "node:os";

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
