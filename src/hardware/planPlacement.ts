import {formatBytes} from "../models/formatBytes.js";
import type {Backend} from "../engine/types.js";
import {formatMemory} from "./byteSizes.js";
import {
    computeBufferBytes, cpuQualityCeilingBitsPerWeight, defaultPlanContextSize, gpuReserveBytes, metalWorkingSetFraction,
    ramHeadroomBytes
} from "./memoryBudget.js";
import {kvBytesPerTokenPerBlock, mixtral8x7b, totalOffloadableLayers, weightParts} from "./mixtralShape.js";
import type {GpuInfo, MemoryInfo} from "./types.js";

/** The little the planner needs to know about a catalog file (models.json has more). */
export type PlanEntry = {
    name: string,
    variant: string,
    quant: string,
    bytes: number,
    bitsPerWeight: number,
    /** Below the range the project recommends: only planned when asked for with --quant. */
    belowRange?: boolean
};

export type PlanHardware = {backend: Backend, gpus: readonly GpuInfo[], ram: MemoryInfo};

export type PlanRequest = {
    hardware: PlanHardware,
    catalog: readonly PlanEntry[],
    /** "instruct" unless said otherwise. */
    variant?: string,
    /** User overrides: they win over the plan. */
    quant?: string,
    gpuLayers?: number | "auto" | "max",
    contextSize?: number
};

export type Placement = "gpu" | "split" | "cpu" | "none";

export type Plan = {
    /** The catalog name to resolve (`instruct:Q3_K_M`), null when nothing fits. */
    model: string | null,
    quant: string | null,
    fileBytes: number | null,
    gpuLayers: number,
    totalLayers: number,
    contextSize: number,
    placement: Placement,
    /**
     * node-llama-cpp 3.21.1 turns flash attention on by itself where the backend supports it
     * ("auto"), and marks quantized KV-cache types as experimental and unstable, so the plan keeps
     * the f16 cache and says so rather than pretending to choose.
     */
    flashAttention: "auto",
    kvCacheType: "f16",
    /** Estimated need and what is available, per side. */
    memory: {gpuNeedBytes: number, gpuBudgetBytes: number, ramNeedBytes: number, ramBudgetBytes: number},
    reason: string
};

type Need = {gpu: number, ram: number};
type Budget = {gpu: number, ram: number, metal: boolean};

/**
 * The pure planner: the best quality that fits entirely on the GPU; else the best split between
 * VRAM and RAM; else the CPU with headroom; else "none" with what is missing. Overrides narrow the
 * choice (--quant) or fix it (--gpu-layers, --context-size).
 */
export function planPlacement(request: PlanRequest): Plan {
    const {hardware} = request;
    const contextSize = request.contextSize ?? defaultPlanContextSize;
    const gpus = hardware.backend === "cpu" ? [] : hardware.gpus.filter((gpu) => gpu.type === hardware.backend);
    const budget = budgetOf(hardware, gpus);
    const label = hardwareLabel(hardware, gpus, budget);
    const context = contextLabel(contextSize);
    const variant = request.variant ?? "instruct";

    const ofVariant = request.catalog.filter((entry) => entry.variant === variant);
    const candidates = request.quant != null
        ? ofVariant.filter((entry) => entry.quant.toLowerCase() === request.quant?.toLowerCase())
        : ofVariant.filter((entry) => entry.belowRange !== true);
    const best = [...candidates].sort(byQuality);
    const overrideNote = overridesNote(request);

    /** `why` says why the plan settled for less than the GPU (" (no quant fits entirely in VRAM)"). */
    const planFor = (entry: PlanEntry, gpuLayers: number, why = ""): Plan => {
        const placement = placementOf(gpuLayers);
        return {
            model: entry.name, quant: entry.quant, fileBytes: entry.bytes, gpuLayers, totalLayers: totalOffloadableLayers,
            contextSize, placement, flashAttention: "auto", kvCacheType: "f16",
            memory: memoryOf(needOf(entry.bytes, gpuLayers, contextSize), budget),
            reason: `${label}: ${entry.quant} (${formatBytes(entry.bytes)}) ${describe(placement, gpuLayers)}${why}, ${context}${overrideNote}`
        };
    };

    if (best.length === 0) {
        const wanted = request.quant != null ? `${variant}:${request.quant.toUpperCase()}` : `${variant} model`;
        return nonePlan(contextSize, budget, `${label}: the catalog has no ${wanted}${overrideNote}`);
    }

    // Plans that leave layers on the CPU stop at the quality ceiling, unless the user chose the quant.
    const forCpu = request.quant != null ? best : [
        ...best.filter((entry) => entry.bitsPerWeight <= cpuQualityCeilingBitsPerWeight),
        ...best.filter((entry) => entry.bitsPerWeight > cpuQualityCeilingBitsPerWeight)
    ];
    const fits = (entry: PlanEntry, layers: number) => fitsIn(needOf(entry.bytes, layers, contextSize), budget);

    const fixedLayers = fixedGpuLayers(request.gpuLayers, gpus.length > 0);
    if (fixedLayers != null) {
        const pool = fixedLayers >= totalOffloadableLayers ? best : forCpu;
        const entry = pool.find((candidate) => fits(candidate, fixedLayers));
        if (entry != null) return planFor(entry, fixedLayers);
        return missingPlan(pool, fixedLayers, contextSize, budget, label, context, overrideNote);
    }

    if (gpus.length > 0) {
        const onGpu = best.find((entry) => fits(entry, totalOffloadableLayers));
        if (onGpu != null) return planFor(onGpu, totalOffloadableLayers);
        for (const entry of forCpu) {
            const layers = mostGpuLayers(entry, contextSize, budget);
            if (layers > 0 && fits(entry, layers)) return planFor(entry, layers, " (no quant fits entirely in VRAM)");
        }
    }
    const onCpu = forCpu.find((entry) => fits(entry, 0));
    if (onCpu != null) return planFor(onCpu, 0, gpus.length > 0 ? " (no layer fits in VRAM)" : "");
    return missingPlan(forCpu, gpus.length > 0 ? mostGpuLayers(smallest(forCpu), contextSize, budget) : 0, contextSize, budget, label, context, overrideNote);
}

/** Higher bits per weight first; on a tie the smaller file, then K-quants (better at the same size). */
function byQuality(a: PlanEntry, b: PlanEntry): number {
    return b.bitsPerWeight - a.bitsPerWeight || a.bytes - b.bytes || Number(b.quant.includes("_K")) - Number(a.quant.includes("_K"));
}

function smallest(entries: readonly PlanEntry[]): PlanEntry {
    return entries.reduce((small, entry) => (entry.bytes < small.bytes ? entry : small));
}

function budgetOf(hardware: PlanHardware, gpus: readonly GpuInfo[]): Budget {
    const metal = gpus.some((gpu) => gpu.unifiedMemory);
    let gpu = 0;
    for (const device of gpus) {
        // Metal reports a working-set limit as its VRAM; a simulated Mac reports all of its memory.
        const usable = device.unifiedMemory
            ? Math.min(device.vramFreeBytes, metalWorkingSetFraction * hardware.ram.totalBytes)
            : device.vramFreeBytes;
        gpu += Math.max(0, usable - gpuReserveBytes);
    }
    // RAM is planned from the total, not today's free figure, so a plan does not change with every
    // page-cache fluctuation; doctor warns separately when free RAM is short.
    const ram = Math.max(0, hardware.ram.totalBytes - ramHeadroomBytes(hardware.ram.totalBytes));
    return {gpu, ram, metal};
}

/**
 * What `layers` offloaded layers need on each side. llama.cpp offloads the last blocks first and
 * the output matrix as layer 33; each block's KV cache lives where the block runs.
 */
function needOf(fileBytes: number, layers: number, contextSize: number): Need {
    const parts = weightParts(fileBytes);
    const gpuBlocks = Math.min(layers, mixtral8x7b.blockCount);
    const cpuBlocks = mixtral8x7b.blockCount - gpuBlocks;
    const outputOnGpu = layers > mixtral8x7b.blockCount;
    const kvPerBlock = kvBytesPerTokenPerBlock * contextSize;
    const compute = computeBufferBytes(contextSize);
    return {
        gpu: layers === 0 ? 0 : gpuBlocks * (parts.block + kvPerBlock) + (outputOnGpu ? parts.output : 0) + compute,
        ram: parts.inputEmbedding + cpuBlocks * (parts.block + kvPerBlock) + (outputOnGpu ? 0 : parts.output) +
            (layers === 0 || cpuBlocks > 0 ? compute : 0)
    };
}

function fitsIn(need: Need, budget: Budget): boolean {
    // On a Mac both sides come out of the same memory.
    if (budget.metal) return need.gpu <= budget.gpu && need.gpu + need.ram <= budget.ram;
    return need.gpu <= budget.gpu && need.ram <= budget.ram;
}

function mostGpuLayers(entry: PlanEntry, contextSize: number, budget: Budget): number {
    let layers = 0;
    while (layers < totalOffloadableLayers && needOf(entry.bytes, layers + 1, contextSize).gpu <= budget.gpu) layers++;
    return layers;
}

function fixedGpuLayers(gpuLayers: PlanRequest["gpuLayers"], hasGpu: boolean): number | undefined {
    if (!hasGpu) return gpuLayers == null || gpuLayers === "auto" ? undefined : 0;
    if (gpuLayers === "max") return totalOffloadableLayers;
    if (typeof gpuLayers === "number") return Math.min(gpuLayers, totalOffloadableLayers);
    return undefined;
}

function placementOf(layers: number): Placement {
    return layers === 0 ? "cpu" : layers >= totalOffloadableLayers ? "gpu" : "split";
}

function describe(placement: Placement, layers: number): string {
    if (placement === "gpu") return "fully on GPU";
    if (placement === "cpu") return "on the CPU";
    return `with ${layers} of ${totalOffloadableLayers} layers on GPU`;
}

function memoryOf(need: Need, budget: Budget): Plan["memory"] {
    return {gpuNeedBytes: Math.round(need.gpu), gpuBudgetBytes: Math.round(budget.gpu), ramNeedBytes: Math.round(need.ram), ramBudgetBytes: Math.round(budget.ram)};
}

function nonePlan(contextSize: number, budget: Budget, reason: string): Plan {
    return {
        model: null, quant: null, fileBytes: null, gpuLayers: 0, totalLayers: totalOffloadableLayers, contextSize,
        placement: "none", flashAttention: "auto", kvCacheType: "f16", memory: memoryOf({gpu: 0, ram: 0}, budget), reason
    };
}

/** Nothing fits: name the smallest candidate and how much memory it lacks. */
function missingPlan(pool: readonly PlanEntry[], layers: number, contextSize: number, budget: Budget,
    label: string, context: string, overrideNote: string): Plan {
    const entry = smallest(pool);
    const need = needOf(entry.bytes, layers, contextSize);
    const short = Math.max(0, need.gpu - budget.gpu) + Math.max(0, (budget.metal ? need.gpu + need.ram : need.ram) - budget.ram);
    const where = layers === 0 ? "RAM" : layers >= totalOffloadableLayers ? "VRAM" : "VRAM and RAM";
    const plan = nonePlan(contextSize, budget,
        `${label}: nothing fits; the smallest, ${entry.quant} (${formatBytes(entry.bytes)}), needs ${formatMemory(short)} more ` +
        `${where} at ${context}${overrideNote}`);
    plan.memory = memoryOf(need, budget);
    return plan;
}

function hardwareLabel(hardware: PlanHardware, gpus: readonly GpuInfo[], budget: Budget): string {
    const ram = formatMemory(hardware.ram.totalBytes);
    if (gpus.length === 0) return `CPU only, ${ram} RAM`;
    const names = [...new Set(gpus.map((gpu) => shortGpuName(gpu.name)))].join(" + ");
    const count = gpus.length > 1 && new Set(gpus.map((gpu) => gpu.name)).size === 1 ? `${gpus.length}× ` : "";
    if (budget.metal) return `${count}${names} ${ram} unified (${formatMemory(budget.gpu)} for the GPU)`;
    const vram = formatMemory(gpus.reduce((sum, gpu) => sum + gpu.vramTotalBytes, 0));
    return `${count}${names} ${vram} + ${ram} RAM`;
}

/** "NVIDIA GeForce RTX 3090" → "RTX 3090": the words people use. */
function shortGpuName(name: string): string {
    return name.replace(/^(NVIDIA\s+)?(GeForce\s+)?/i, "").replace(/\s*\(.*\)$/, "").trim() || name;
}

/** 8192 → "8k context"; 3000 → "3000-token context". */
function contextLabel(contextSize: number): string {
    return contextSize % 1024 === 0 ? `${contextSize / 1024}k context` : `${contextSize}-token context`;
}

function overridesNote(request: PlanRequest): string {
    const notes: string[] = [];
    if (request.quant != null) notes.push(`--quant ${request.quant}`);
    if (request.gpuLayers != null && request.gpuLayers !== "auto") notes.push(`--gpu-layers ${request.gpuLayers}`);
    if (request.contextSize != null) notes.push(`--context-size ${request.contextSize}`);
    return notes.length > 0 ? ` (${notes.join(", ")})` : "";
}
