import {formatBytes} from "../formatBytes.js";
import {formatMemory, GiB, MiB} from "./byteSizes.js";
import type {LoadVerdict} from "./cpuLoad.js";
import {metalWiredLimitSetting, ramHeadroomBytes} from "./memoryBudget.js";
import {cudaRuntimeHint, nativeBindingHint, thisPlatform, type LinuxLibc, type PlatformOf} from "./platformBackends.js";
import type {Plan} from "./planPlacement.js";
import type {HardwareProbe} from "./types.js";

export type AdviceFacts = {
    /** What the current load leaves a model here (absent for a simulated machine or on Windows). */
    load?: LoadVerdict,
    /** The planned file is already in the store (no download, no disk needed). */
    planDownloaded: boolean,
    /** Kept free beyond the file when downloading (models/diskSpace.ts). */
    diskMarginBytes: number,
    /** The system the hints are worded for (this one unless a test says otherwise). */
    system?: PlatformOf,
    /** Asked only when the binding does not load: what the Linux system offers prebuilt binaries. */
    libc?: () => LinuxLibc
};

/**
 * Hints for the trouble people actually hit: a GPU the build cannot use, a native binding that
 * does not load, a disk or RAM too small for the plan. One sentence each, with what to do.
 */
export function adviseOnHardware(probe: HardwareProbe, plan: Plan, facts: AdviceFacts): string[] {
    const hints: string[] = [];
    const system = facts.system ?? thisPlatform;
    if (probe.nativeError != null)
        hints.push(`The llama.cpp native binding does not load (${probe.nativeError}). ${nativeBindingHint(facts.libc?.() ?? {musl: false, nixos: false}, system)}`);
    const cuda = probe.backends.find((status) => status.backend === "cuda");
    if (probe.source === "probe" && probe.nvidiaDriverPresent && cuda != null && !cuda.loaded)
        hints.push(cudaRuntimeHint(cuda.reason ?? "unknown reason", system));
    const mac = probe.gpus.find((gpu) => gpu.unifiedMemory);
    if (mac != null && plan.placement !== "gpu" && plan.placement !== "none") {
        // Raising the GPU's share is the Mac's way to fit more on the GPU; leave macOS its headroom.
        const raised = Math.floor((probe.ram.totalBytes - ramHeadroomBytes(probe.ram.totalBytes)) / MiB);
        hints.push(`macOS lets the GPU use ${formatMemory(mac.vramTotalBytes)} of the ${formatMemory(probe.ram.totalBytes)} of unified memory by default; ` +
            `\`sudo sysctl ${metalWiredLimitSetting}=${raised}\` raises it until the next restart, and \`mixtral doctor\` then plans with it.`);
    }
    if (plan.placement === "none")
        hints.push("Nothing in the catalog fits: a smaller --context-size, or a machine with more memory, would help; `--quant` and `--model` still run a file at your own risk.");
    if (plan.fileBytes != null && !facts.planDownloaded && probe.diskFreeBytes != null && probe.diskFreeBytes < plan.fileBytes + facts.diskMarginBytes)
        hints.push(`The models store ${probe.modelsDir} has ${formatBytes(probe.diskFreeBytes)} free, too little for ${plan.quant} (${formatBytes(plan.fileBytes)}); ` +
            "free some space or set MIXTRAL_MODELS to a folder on a larger disk.");
    const ramNeed = ramNeedBytes(probe, plan);
    if (probe.source === "probe" && ramNeed > probe.ram.freeBytes)
        hints.push(`Only ${formatMemory(probe.ram.freeBytes)} of RAM is free now and the plan needs about ${formatMemory(ramNeed)}; close other programs before loading, or it will swap.`);
    const {ramBudgetBytes} = plan.memory;
    if (plan.placement !== "none" && ramBudgetBytes - ramNeed < tightRamBytes) {
        hints.push(`The plan leaves only ${formatMemory(ramBudgetBytes - ramNeed)} spare: it needs about ${formatMemory(ramNeed)} of the ${formatMemory(ramBudgetBytes)} of RAM ` +
            `it may use (${formatMemory(probe.ram.totalBytes - ramBudgetBytes)} more are kept for the system), so other programs, or an estimate a little off, ` +
            "push it into swap; a smaller --context-size or --quant leaves more room.");
    }
    if (facts.load?.busy === true) {
        const {oneMinute, cores, threads, shareForModel} = facts.load;
        hints.push(`Other work holds the cores (load average ${oneMinute.toFixed(1)} over the last minute on ${cores} core${cores === 1 ? "" : "s"}), ` +
            `so a model's ${threads} thread${threads === 1 ? "" : "s"} would get about ${Math.round(shareForModel * 100)} % of the CPU time and decode that much slower or worse ` +
            "(ggml's threads wait for each other at every step, and collapse when they outnumber the free cores); " +
            `load the model, or run \`mixtral bench\`, when that work is done, or give it the cores that are free (\`--threads ${freeCores(facts.load)}\`).`);
    }
    return hints;
}

/** The cores the current load leaves idle, at least one. */
function freeCores(load: LoadVerdict): number {
    return Math.max(1, Math.floor(load.cores - load.oneMinute));
}

/** Below this much room in the RAM budget, the plan is tight enough to say so. */
export const tightRamBytes = GiB;

/** RAM the plan needs (both sides on unified memory, where they share one budget); 0 without a plan. */
function ramNeedBytes(probe: HardwareProbe, plan: Plan): number {
    if (plan.placement === "none") return 0;
    return plan.memory.ramNeedBytes + (probe.gpus.some((gpu) => gpu.unifiedMemory) ? plan.memory.gpuNeedBytes : 0);
}

/**
 * What the planner cannot do with node-llama-cpp 3.21.1, said once rather than faked, and only
 * where it touches this plan: the MoE offload matters only to a GPU that does not hold the whole model.
 */
export function knownLimits(probe: HardwareProbe, plan: Plan): string[] {
    const limits: string[] = [];
    if (probe.gpus.length > 0 && plan.placement !== "gpu")
        limits.push("MoE expert offload (llama.cpp's --n-cpu-moe, keeping attention on the GPU and experts in RAM) is not exposed by node-llama-cpp 3.21.1; a split places whole layers.");
    // The plan sizes memory for its own cache type; chat and serve on a CPU may still choose q8_0 (KV by use).
    const perToken = `${Math.round(plan.kvBytesPerToken / 1024)} KiB`;
    limits.push(plan.kvCacheTypeK === "f16" && plan.kvCacheTypeV === "f16"
        ? `Quantized KV cache types are marked experimental in node-llama-cpp 3.21.1 (the tests run f16, q8_0 and q4_0 on the CPU backend only): the plan sizes memory for f16 (${perToken} a token), and a q8_0 cache is used where it fits better or is faster (see KV by use).`
        : `This plan's ${plan.kvCacheType} KV cache (${perToken} a token instead of f16's 128 KiB) goes through node-llama-cpp 3.21.1's experimental KV cache type option; \`--cache-type-k f16 --cache-type-v f16\` plans without it.`);
    return limits;
}
