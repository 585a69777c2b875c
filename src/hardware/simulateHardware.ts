import {UsageError} from "../errors.js";
import type {Backend} from "./types.js";
import {formatMemory, parseByteSize} from "./byteSizes.js";
import {metalWorkingSetBytes} from "./memoryBudget.js";
import type {HardwareProbe} from "./types.js";

export type SimulationFlags = {gpu?: Backend, vram?: string, ram?: string};

/**
 * `doctor --gpu cuda --vram 24GB --ram 64GB`: the machine a user asks about replaces the probed
 * one ("what would run on a 4090?"). What is not given is taken from this machine. On Metal the
 * GPU shares the RAM, so one size describes both.
 */
export function simulateHardware(flags: SimulationFlags, machine: HardwareProbe): HardwareProbe {
    const vram = sizeFlag("--vram", flags.vram);
    const ram = sizeFlag("--ram", flags.ram);
    const backend = flags.gpu ?? (vram != null ? undefined : machine.backend);
    if (backend == null)
        throw new UsageError("--vram needs a GPU type.", {hint: "Add --gpu cuda, --gpu vulkan or --gpu metal, e.g. --gpu cuda --vram 24GB."});
    if (backend === "cpu" && vram != null)
        throw new UsageError("--vram does not apply to --gpu cpu.", {hint: "Drop --vram, or pick --gpu cuda, vulkan or metal."});

    const ramBytes = ram ?? (backend === "metal" ? vram : undefined);
    const ramInfo = ramBytes != null ? {totalBytes: ramBytes, freeBytes: ramBytes} : machine.ram;
    const base = {...machine, source: "simulated" as const, backend, backends: [], ram: ramInfo, nativeError: undefined, nvidiaDriverPresent: false,
        // Another machine: this one's load says nothing about it.
        load: undefined};
    if (backend === "cpu") return {...base, gpus: []};

    if (backend === "metal") {
        // A Mac's GPU sees its working-set share of the unified memory (2/3 below 36 GiB, else 3/4).
        const workingSet = metalWorkingSetBytes(ramInfo.totalBytes);
        return {...base, gpus: [{type: "metal", name: "simulated Apple GPU", vramTotalBytes: workingSet, vramFreeBytes: workingSet, unifiedMemory: true}]};
    }
    const vramBytes = vram ?? machine.gpus.find((gpu) => gpu.type === backend)?.vramTotalBytes;
    if (vramBytes == null)
        throw new UsageError(`--gpu ${backend} needs --vram to say how much memory the GPU has.`, {hint: `For example: --gpu ${backend} --vram 24GB --ram 64GB`});
    return {
        ...base,
        gpus: [{type: backend, name: `simulated ${backend === "cuda" ? "CUDA" : "Vulkan"} GPU`, vramTotalBytes: vramBytes, vramFreeBytes: vramBytes, unifiedMemory: false}]
    };
}

function sizeFlag(flag: string, value: string | undefined): number | undefined {
    if (value == null) return undefined;
    // A bare number would be bytes: `--vram 24` is 24 bytes, surely meant as 24GB.
    if (/^\s*\d+(?:\.\d+)?\s*$/.test(value))
        throw new UsageError(`${flag} ${value} has no unit.`, {hint: `Write ${value.trim()}GB for ${value.trim()} × 1024³ bytes (or a size like 8GiB, 512MB).`});
    const bytes = parseByteSize(value);
    if (bytes == null) throw new UsageError(`${flag} ${value} is not a size.`, {hint: `Write sizes like 24GB, 8GiB or 512MB (1 GB = 1024³ bytes here, as memory is sold).`});
    return bytes;
}
