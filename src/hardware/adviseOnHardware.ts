import {formatBytes} from "../formatBytes.js";
import {formatMemory, MiB} from "./byteSizes.js";
import {metalWiredLimitSetting, ramHeadroomBytes} from "./memoryBudget.js";
import {cudaRuntimeHint, nativeBindingHint, thisPlatform, type LinuxLibc, type PlatformOf} from "./platformBackends.js";
import type {Plan} from "./planPlacement.js";
import type {HardwareProbe} from "./types.js";

export type AdviceFacts = {
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
    const ramNeed = plan.placement === "none" ? 0 : plan.memory.ramNeedBytes + (probe.gpus.some((gpu) => gpu.unifiedMemory) ? plan.memory.gpuNeedBytes : 0);
    if (probe.source === "probe" && ramNeed > probe.ram.freeBytes)
        hints.push(`Only ${formatMemory(probe.ram.freeBytes)} of RAM is free now and the plan needs about ${formatMemory(ramNeed)}; close other programs before loading, or it will swap.`);
    return hints;
}

/** What the planner cannot do with node-llama-cpp 3.21.1, said once rather than faked. */
export const knownLimits = [
    "MoE expert offload (llama.cpp's --n-cpu-moe, keeping attention on the GPU and experts in RAM) is not exposed by node-llama-cpp 3.21.1; a split places whole layers.",
    "Quantized KV cache types are marked experimental in node-llama-cpp 3.21.1; the tests run f16, q8_0 and q4_0 on the CPU backend only."
];
