import os from "node:os";
import fs from "node:fs";

/**
 * The number of cores this process may really use: the scheduler affinity (os.availableParallelism)
 * capped by a cgroup v2/v1 CPU quota, because containers often report the host's cores while
 * allowing only a fraction of them — and llama.cpp threads beyond the quota only fight each other.
 */
export function usableCpuCores(readFile: (path: string) => string | undefined = readTextFile): number {
    const affinity = os.availableParallelism();
    const quota = cgroupCpuQuota(readFile);
    return Math.max(1, Math.min(affinity, quota ?? Infinity));
}

export function cgroupCpuQuota(readFile: (path: string) => string | undefined): number | undefined {
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

function readTextFile(path: string): string | undefined {
    try {
        return fs.readFileSync(path, "utf8");
    } catch {
        return undefined;
    }
}
