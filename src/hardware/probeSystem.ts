import fs from "node:fs";
import os from "node:os";
import path from "node:path";
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

/**
 * The host's memory before any cgroup limit. macOS: os.freemem() counts only pages nobody uses,
 * a few GB on any Mac that has run for a while, because macOS keeps inactive, cached and purgeable
 * pages around until something asks. What a model can have is everything not wired (what
 * node-llama-cpp's own planner counts as free: total − wired, from the binding's RAM state). Linux
 * and Windows report available memory in os.freemem() already.
 */
export function hostMemory(platform: NodeJS.Platform, binding: {totalBytes: number, wiredBytes: number} | undefined,
    os_ = {total: os.totalmem(), free: os.freemem()}): {total: number, free: number} {
    if (platform === "darwin" && binding != null && binding.wiredBytes > 0 && binding.totalBytes > binding.wiredBytes)
        return {total: binding.totalBytes, free: binding.totalBytes - binding.wiredBytes};
    return os_;
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
export function nvidiaDriverPresent(readFile: ReadFile = readTextFile, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform,
    exists: (file: string) => boolean = fs.existsSync): boolean {
    if (readFile("/proc/driver/nvidia/version") != null) return true;
    const windows = platform === "win32";
    // Windows: the driver puts nvml.dll and nvidia-smi.exe in System32; env keys there are
    // case-insensitive in process.env, but not in a copied object (Path).
    const pathVariable = env.PATH ?? (windows ? env.Path : undefined) ?? "";
    if (windows && exists(path.win32.join(env.SystemRoot ?? env.windir ?? "C:\\Windows", "System32", "nvml.dll"))) return true;
    const executable = windows ? "nvidia-smi.exe" : "nvidia-smi";
    return pathVariable.split(windows ? ";" : ":").some((dir) => dir !== "" && exists((windows ? path.win32 : path.posix).join(dir, executable)));
}

/** What a Linux system offers prebuilt binaries (platformBackends.ts's nativeBindingHint): musl has no glibc; NixOS has no /lib64 loader. */
export function linuxLibc(readFile: ReadFile = readTextFile): {musl: boolean, nixos: boolean} {
    const header = (process.report?.getReport() as {header?: {glibcVersionRuntime?: string}} | undefined)?.header;
    return {musl: process.platform === "linux" && header?.glibcVersionRuntime == null, nixos: readFile("/etc/NIXOS") != null};
}
