import {formatBytes} from "../formatBytes.js";
import type {Backend} from "./types.js";
import {formatMemory} from "./byteSizes.js";
import {isQuantizedCacheType, kvCacheLabel, type CacheType, type FlashAttentionMode} from "./kvCacheTypes.js";
import {
    computeBufferBytes, cpuQualityCeilingBitsPerWeight, defaultPlanContextSize, gpuReserveBytes, metalWorkingSetBytes,
    ramHeadroomBytes
} from "./memoryBudget.js";
import {kvBytesPerTokenPerBlockOf, mixtral8x7b, totalOffloadableLayers, weightParts} from "./mixtralShape.js";
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
    contextSize?: number,
    /** --cache-type-k/-v and --flash-attention: given, the plan uses them instead of choosing. */
    cacheTypeK?: CacheType,
    cacheTypeV?: CacheType,
    flashAttention?: FlashAttentionMode
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
     * "auto" with an f16 cache (llama.cpp uses flash attention where the backend has it); "on" with
     * a quantized V cache, which only the flash-attention kernel reads.
     */
    flashAttention: FlashAttentionMode,
    /** "q8_0"; "q8_0/f16" when K and V differ (only when the flags say so). */
    kvCacheType: string,
    kvCacheTypeK: CacheType,
    kvCacheTypeV: CacheType,
    /** K and V bytes of one token in all 32 layers (128 KiB at f16). */
    kvBytesPerToken: number,
    /** Estimated need and what is available, per side; kvCacheBytes is the whole context's K and V. */
    memory: {gpuNeedBytes: number, gpuBudgetBytes: number, ramNeedBytes: number, ramBudgetBytes: number, kvCacheBytes: number},
    reason: string
};

type Need = {gpu: number, ram: number};
/** One way to keep the KV cache, with the flash-attention setting it needs. */
type KvChoice = {k: CacheType, v: CacheType, flashAttention: FlashAttentionMode};
type Budget = {gpu: number, ram: number, metal: boolean};

/**
 * The pure planner: the best quality that fits entirely on the GPU; else the best split between
 * VRAM and RAM; else the CPU with headroom; else "none" with what is missing. Overrides narrow the
 * choice (--quant) or fix it (--gpu-layers, --context-size, --cache-type-k/-v).
 *
 * The KV cache is chosen with them: f16 unless a q8_0 cache (half the bytes, a quality loss that
 * llama.cpp's measurements put near zero) buys a faster placement — the whole model on the GPU
 * instead of a split, more layers on the GPU in a split, or a fit at all. A model fully on the GPU
 * with q8_0 runs several times faster than a split with f16, where every token reads the CPU
 * layers' weights from RAM. q4_0 costs measurable quality, so only --cache-type picks it.
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
    const kvs = kvChoices(request);
    const defaultKv = kvs[0] as KvChoice;

    /**
     * `why` says why the plan settled for less than the GPU (" (no quant fits entirely in VRAM)");
     * `kvWhy` why the cache is quantized.
     */
    const planFor = (entry: PlanEntry, gpuLayers: number, kv: KvChoice, why = "", kvWhy = ""): Plan => {
        const placement = placementOf(gpuLayers);
        const kvNote = kv.k === "f16" && kv.v === "f16" ? "" : `, ${kvCacheLabel(kv.k, kv.v)} KV cache${kvWhy}`;
        return {
            ...kvFields(kv), model: entry.name, quant: entry.quant, fileBytes: entry.bytes, gpuLayers,
            totalLayers: totalOffloadableLayers, contextSize, placement,
            memory: memoryOf(needOf(entry.bytes, gpuLayers, contextSize, kv), budget, kv, contextSize),
            reason: `${label}: ${entry.quant} (${formatBytes(entry.bytes)}) ${describe(placement, gpuLayers)}${why}${kvNote}, ${context}${overrideNote}`
        };
    };
    const quantizedWhy = (what: string) => kvs.length > 1 ? ` (${what}; it needs flash attention)` : "";

    if (best.length === 0) {
        const wanted = request.quant != null ? `${variant}:${request.quant.toUpperCase()}` : `${variant} model`;
        return nonePlan(contextSize, budget, defaultKv, `${label}: the catalog has no ${wanted}${overrideNote}`);
    }

    // Plans that leave layers on the CPU stop at the quality ceiling, unless the user chose the quant.
    const forCpu = request.quant != null ? best : [
        ...best.filter((entry) => entry.bitsPerWeight <= cpuQualityCeilingBitsPerWeight),
        ...best.filter((entry) => entry.bitsPerWeight > cpuQualityCeilingBitsPerWeight)
    ];
    const fits = (entry: PlanEntry, layers: number, kv: KvChoice) => fitsIn(needOf(entry.bytes, layers, contextSize, kv), budget);
    // The smallest cache is the one to report a shortfall with: the least that would be missing.
    const smallestKv = kvs.at(-1) as KvChoice;

    const fixedLayers = fixedGpuLayers(request.gpuLayers, gpus.length > 0);
    if (fixedLayers != null) {
        const pool = fixedLayers >= totalOffloadableLayers ? best : forCpu;
        for (const kv of kvs) {
            const entry = pool.find((candidate) => fits(candidate, fixedLayers, kv));
            if (entry != null) return planFor(entry, fixedLayers, kv, "", quantizedWhy("an f16 one does not fit"));
        }
        return missingPlan(pool, fixedLayers, contextSize, budget, smallestKv, label, context, overrideNote);
    }

    if (gpus.length > 0) {
        for (const kv of kvs) {
            const onGpu = best.find((entry) => fits(entry, totalOffloadableLayers, kv));
            if (onGpu != null) return planFor(onGpu, totalOffloadableLayers, kv, "", quantizedWhy("with f16 no quant fits entirely in VRAM"));
        }
        for (const entry of forCpu) {
            // The cache that puts the most layers on the GPU; f16 when it does as well.
            let chosen = defaultKv;
            let layers = mostGpuLayers(entry, contextSize, budget, defaultKv);
            for (const kv of kvs.slice(1)) {
                const more = mostGpuLayers(entry, contextSize, budget, kv);
                if (more > layers) [chosen, layers] = [kv, more];
            }
            if (layers > 0 && fits(entry, layers, chosen)) {
                const gained = layers - mostGpuLayers(entry, contextSize, budget, defaultKv);
                return planFor(entry, layers, chosen, " (no quant fits entirely in VRAM)",
                    quantizedWhy(`${gained} more layer${gained === 1 ? "" : "s"} on the GPU than with f16`));
            }
        }
    }
    for (const kv of kvs) {
        const onCpu = forCpu.find((entry) => fits(entry, 0, kv));
        if (onCpu != null) return planFor(onCpu, 0, kv, gpus.length > 0 ? " (no layer fits in VRAM)" : "", quantizedWhy("an f16 one does not fit"));
    }
    return missingPlan(forCpu, gpus.length > 0 ? mostGpuLayers(smallest(forCpu), contextSize, budget, smallestKv) : 0, contextSize, budget,
        smallestKv, label, context, overrideNote);
}

/** The caches the plan may use, best first: the user's, or f16 then q8_0 (unless flash attention is off). */
function kvChoices(request: PlanRequest): KvChoice[] {
    const {cacheTypeK, cacheTypeV, flashAttention} = request;
    if (cacheTypeK != null || cacheTypeV != null) {
        const k = cacheTypeK ?? "f16";
        const v = cacheTypeV ?? "f16";
        return [{k, v, flashAttention: flashAttention ?? (isQuantizedCacheType(v) ? "on" : "auto")}];
    }
    const choices: KvChoice[] = [{k: "f16", v: "f16", flashAttention: flashAttention ?? "auto"}];
    if (flashAttention !== "off") choices.push({k: "q8_0", v: "q8_0", flashAttention: "on"});
    return choices;
}

function kvFields(kv: KvChoice) {
    const kvBytesPerToken = kvBytesPerTokenPerBlockOf(kv.k, kv.v) * mixtral8x7b.blockCount;
    return {flashAttention: kv.flashAttention, kvCacheType: kvCacheLabel(kv.k, kv.v), kvCacheTypeK: kv.k, kvCacheTypeV: kv.v, kvBytesPerToken};
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
        // Metal reports its working-set limit as its VRAM (raised by iogpu.wired_limit_mb when a user
        // raised it); a device that claims more than its unified memory is capped by macOS's default share.
        const usable = device.unifiedMemory && device.vramFreeBytes > hardware.ram.totalBytes
            ? metalWorkingSetBytes(hardware.ram.totalBytes)
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
function needOf(fileBytes: number, layers: number, contextSize: number, kv: KvChoice): Need {
    const parts = weightParts(fileBytes);
    const gpuBlocks = Math.min(layers, mixtral8x7b.blockCount);
    const cpuBlocks = mixtral8x7b.blockCount - gpuBlocks;
    const outputOnGpu = layers > mixtral8x7b.blockCount;
    const kvPerBlock = kvBytesPerTokenPerBlockOf(kv.k, kv.v) * contextSize;
    const compute = computeBufferBytes(contextSize, kv.flashAttention === "on");
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

function mostGpuLayers(entry: PlanEntry, contextSize: number, budget: Budget, kv: KvChoice): number {
    let layers = 0;
    while (layers < totalOffloadableLayers && needOf(entry.bytes, layers + 1, contextSize, kv).gpu <= budget.gpu) layers++;
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

function memoryOf(need: Need, budget: Budget, kv: KvChoice, contextSize: number): Plan["memory"] {
    return {
        gpuNeedBytes: Math.round(need.gpu), gpuBudgetBytes: Math.round(budget.gpu), ramNeedBytes: Math.round(need.ram),
        ramBudgetBytes: Math.round(budget.ram), kvCacheBytes: kvFields(kv).kvBytesPerToken * contextSize
    };
}

function nonePlan(contextSize: number, budget: Budget, kv: KvChoice, reason: string): Plan {
    return {
        ...kvFields(kv), model: null, quant: null, fileBytes: null, gpuLayers: 0, totalLayers: totalOffloadableLayers,
        contextSize, placement: "none", memory: memoryOf({gpu: 0, ram: 0}, budget, kv, contextSize), reason
    };
}

/** Nothing fits: name the smallest candidate and how much memory it lacks. */
function missingPlan(pool: readonly PlanEntry[], layers: number, contextSize: number, budget: Budget, kv: KvChoice,
    label: string, context: string, overrideNote: string): Plan {
    const entry = smallest(pool);
    const need = needOf(entry.bytes, layers, contextSize, kv);
    const short = Math.max(0, need.gpu - budget.gpu) + Math.max(0, (budget.metal ? need.gpu + need.ram : need.ram) - budget.ram);
    const where = layers === 0 ? "RAM" : layers >= totalOffloadableLayers ? "VRAM" : "VRAM and RAM";
    const cache = kv.k === "f16" && kv.v === "f16" ? "" : ` with a ${kvCacheLabel(kv.k, kv.v)} KV cache`;
    const plan = nonePlan(contextSize, budget, kv,
        `${label}: nothing fits; the smallest, ${entry.quant} (${formatBytes(entry.bytes)}), needs ${formatMemory(short)} more ` +
        `${where}${cache} at ${context}${overrideNote}`);
    plan.memory = memoryOf(need, budget, kv, contextSize);
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
    if (request.cacheTypeK != null) notes.push(`--cache-type-k ${request.cacheTypeK}`);
    if (request.cacheTypeV != null) notes.push(`--cache-type-v ${request.cacheTypeV}`);
    if (request.flashAttention != null) notes.push(`--flash-attention ${request.flashAttention}`);
    return notes.length > 0 ? ` (${notes.join(", ")})` : "";
}
