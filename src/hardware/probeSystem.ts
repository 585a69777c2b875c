import fs from "node:fs";
import os from "node:os";
import {physicalCpuCores, readTextFile, usableCpuCores, type ReadFile} from "./cpuCores.js";
import type {CpuInfo, MemoryInfo} from "./types.js";

export function probeCpu(readFile: ReadFile = readTextFile): CpuInfo {
    const model = os.cpus()[0]?.model.trim();
    return {
        model: model == null || model === "" ? "unknown CPU" : model,
        cores: usableCpuCores(readFile),
        physicalCores: physicalCpuCores(readFile)
    };
}

/**
 * RAM as this process can use it: a container's cgroup limit caps what os.totalmem() reports for
 * the host, and the cgroup's own usage counts against it.
 */
export function probeRam(readFile: ReadFile = readTextFile, host = {total: os.totalmem(), free: os.freemem()}): MemoryInfo {
    const limit = cgroupMemoryLimit(readFile);
    if (limit == null || limit >= host.total) return {totalBytes: host.total, freeBytes: host.free};
    const used = numberFrom(readFile("/sys/fs/cgroup/memory.current")) ?? numberFrom(readFile("/sys/fs/cgroup/memory/memory.usage_in_bytes")) ?? 0;
    return {totalBytes: limit, freeBytes: Math.max(0, Math.min(host.free, limit - used))};
}

function cgroupMemoryLimit(readFile: ReadFile): number | undefined {
    // v2 says "max" when unlimited; v1 says a huge number (PAGE_COUNTER_MAX), caught by the caller's >= total.
    const limit = numberFrom(readFile("/sys/fs/cgroup/memory.max")) ?? numberFrom(readFile("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
    return limit != null && limit > 0 ? limit : undefined;
}

function numberFrom(text: string | undefined): number | undefined {
    const value = text?.trim();
    if (value == null || !/^\d+$/.test(value)) return undefined;
    return Number(value);
}

/**
 * An NVIDIA kernel driver is installed: CUDA ought to work, so a CUDA backend that does not load is
 * worth a hint. Checked without running anything: the driver's proc file, or nvidia-smi on PATH.
 */
export function nvidiaDriverPresent(readFile: ReadFile = readTextFile, env: NodeJS.ProcessEnv = process.env): boolean {
    if (readFile("/proc/driver/nvidia/version") != null) return true;
    const executable = process.platform === "win32" ? "nvidia-smi.exe" : "nvidia-smi";
    return (env.PATH ?? "").split(process.platform === "win32" ? ";" : ":")
        .some((dir) => dir !== "" && fs.existsSync(`${dir}/${executable}`));
}
