import os from "node:os";
import fs from "node:fs";

/** Reads a text file, undefined when it does not exist: replaceable so tests can fake /proc and /sys. */
export type ReadFile = (path: string) => string | undefined;

/**
 * The number of cores this process may really use: the scheduler affinity (os.availableParallelism)
 * capped by a cgroup v2/v1 CPU quota, because containers often report the host's cores while
 * allowing only a fraction of them — and llama.cpp threads beyond the quota only fight each other.
 */
export function usableCpuCores(readFile: ReadFile = readTextFile): number {
    const affinity = os.availableParallelism();
    const quota = cgroupCpuQuota(readFile);
    return Math.max(1, Math.min(affinity, quota ?? Infinity));
}

/**
 * The thread count a model runs with unless --threads says otherwise: MIXTRAL_THREADS when set
 * (machines shared with other work, and the test suite, which runs two engines at once on two cores:
 * ggml's spinning threads degrade badly when oversubscribed), else every usable core — narrowed to
 * the math cores by threadsFromMathCores once the binding is loaded.
 */
export function defaultThreadCount(env: NodeJS.ProcessEnv = process.env, usableCores: () => number = usableCpuCores): number {
    return threadsFromEnv(env) ?? usableCores();
}

/** MIXTRAL_THREADS when it is a count: the user's choice, used as --threads is (fixed, not adapted). */
export function threadsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
    const fromEnv = Number(env.MIXTRAL_THREADS);
    return Number.isSafeInteger(fromEnv) && fromEnv >= 1 ? fromEnv : undefined;
}

/**
 * The default once llama.cpp tells its count of math cores (node-llama-cpp's cpuMathCores, llama.cpp's
 * own -t default): performance cores on Apple Silicon (an M2 Max has 8 of its 12), physical cores
 * without their hyper-threads, no Intel E-cores. os.availableParallelism counts all of those, and a
 * token's threads all wait for the slowest one. Still capped by the usable cores (a container's
 * quota); MIXTRAL_THREADS still wins.
 */
export function threadsFromMathCores(usable: number, mathCores: number, env: NodeJS.ProcessEnv = process.env): number {
    const fromEnv = threadsFromEnv(env);
    if (fromEnv != null) return fromEnv;
    return Number.isSafeInteger(mathCores) && mathCores >= 1 ? Math.max(1, Math.min(usable, mathCores)) : usable;
}

function cgroupCpuQuota(readFile: ReadFile): number | undefined {
    // cgroup v2: "max 100000" or "200000 100000"
    const v2 = readFile("/sys/fs/cgroup/cpu.max")?.trim().split(/\s+/);
    if (v2 != null && v2[0] != null && v2[0] !== "max" && v2[1] != null) {
        const quota = Number(v2[0]);
        const period = Number(v2[1]);
        if (quota > 0 && period > 0) return Math.max(1, Math.floor(quota / period));
    }
    const v1Quota = Number(readFile("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")?.trim());
    const v1Period = Number(readFile("/sys/fs/cgroup/cpu/cpu.cfs_period_us")?.trim());
    if (v1Quota > 0 && v1Period > 0) return Math.max(1, Math.floor(v1Quota / v1Period));
    return undefined;
}

export function readTextFile(path: string): string | undefined {
    try {
        return fs.readFileSync(path, "utf8");
    } catch {
        return undefined;
    }
}

/**
 * Physical cores from /proc/cpuinfo (distinct physical id + core id pairs), so SMT siblings are not
 * counted twice; undefined where the file does not exist or says nothing useful (macOS, Windows).
 */
export function physicalCpuCores(readFile: ReadFile = readTextFile): number | undefined {
    const cpuinfo = readFile("/proc/cpuinfo");
    if (cpuinfo == null) return undefined;
    const cores = new Set<string>();
    for (const block of cpuinfo.split(/\n\s*\n/)) {
        const physical = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
        const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
        if (physical != null && core != null) cores.add(`${physical}:${core}`);
    }
    return cores.size > 0 ? cores.size : undefined;
}
