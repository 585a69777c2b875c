import {GiB} from "../../src/hardware/byteSizes.js";
import {metalWorkingSetBytes} from "../../src/hardware/memoryBudget.js";
import type {PlanEntry, PlanHardware} from "../../src/hardware/planPlacement.js";
import type {GpuInfo} from "../../src/hardware/types.js";

/** The instruct files of models.json as of writing, copied so these tests do not move with the catalog. */
export const catalog: PlanEntry[] = [
    {quant: "Q2_K", bytes: 15_640_000_000, bitsPerWeight: 2.68, belowRange: true},
    {quant: "Q3_K_M", bytes: 20_360_000_000, bitsPerWeight: 3.49},
    {quant: "Q4_0", bytes: 26_440_000_000, bitsPerWeight: 4.53},
    {quant: "Q4_K_M", bytes: 26_441_533_376, bitsPerWeight: 4.53},
    {quant: "Q5_0", bytes: 32_230_000_000, bitsPerWeight: 5.52},
    {quant: "Q5_K_M", bytes: 32_230_000_000, bitsPerWeight: 5.52},
    {quant: "Q6_K", bytes: 38_380_000_000, bitsPerWeight: 6.57},
    {quant: "Q8_0", bytes: 49_620_000_000, bitsPerWeight: 8.5}
].flatMap((entry) => ["instruct", "base"].map((variant) => ({...entry, variant, name: `${variant}:${entry.quant}`})));

function gpu(type: GpuInfo["type"], name: string, vramGiB: number, unifiedMemory = false): GpuInfo {
    const bytes = vramGiB * GiB;
    return {type, name, vramTotalBytes: bytes, vramFreeBytes: bytes, unifiedMemory};
}

function ram(gib: number) {
    return {totalBytes: gib * GiB, freeBytes: gib * GiB};
}

/** Metal reports recommendedMaxWorkingSetSize (2/3 of unified memory below 36 GiB, 3/4 from 36 GiB) as the GPU's memory. */
function mac(name: string, memoryGiB: number): PlanHardware {
    return {backend: "metal", gpus: [gpu("metal", name, metalWorkingSetBytes(memoryGiB * GiB) / GiB, true)], ram: ram(memoryGiB)};
}

export const machines = {
    rtx3090: {backend: "cuda", gpus: [gpu("cuda", "NVIDIA GeForce RTX 3090", 24)], ram: ram(64)},
    rtx4090: {backend: "cuda", gpus: [gpu("cuda", "NVIDIA GeForce RTX 4090", 24)], ram: ram(32)},
    gpu8GiB: {backend: "cuda", gpus: [gpu("cuda", "NVIDIA GeForce RTX 4060", 8)], ram: ram(64)},
    m1Max32: mac("Apple M1 Max", 32),
    m2Max64: mac("Apple M2 Max", 64),
    m2Ultra192: mac("Apple M2 Ultra", 192),
    cpu16: {backend: "cpu", gpus: [], ram: ram(16)},
    cpu24: {backend: "cpu", gpus: [], ram: ram(24)},
    cpu64: {backend: "cpu", gpus: [], ram: ram(64)},
    /** The project's 2-core, 24 GB build machine (MemTotal 24684096 kB), no GPU. */
    thisMachine: {backend: "cpu", gpus: [], ram: {totalBytes: 24_684_096 * 1024, freeBytes: 23 * GiB}},
    dualRtx3090: {backend: "cuda", gpus: [gpu("cuda", "NVIDIA GeForce RTX 3090", 24), gpu("cuda", "NVIDIA GeForce RTX 3090", 24)], ram: ram(128)}
} satisfies Record<string, PlanHardware>;
