import {MixtralError} from "../errors.js";
import type {KvCacheSettings} from "./kvCacheSettings.js";
import {isQuantizedCacheType} from "./kvCacheTypes.js";
import {planPlacement, type Plan, type PlanEntry, type PlanRequest} from "./planPlacement.js";
import {probeHardware} from "./probeHardware.js";
import {assertKnownQuant} from "./knownQuant.js";
import {skipBackendsProbe, type GpuChoice, type ProbeBackends} from "./types.js";

/** The flags of chat/complete that steer the plan (the planner's overrides, and --gpu); each one the user gives also wins at load time. */
export type PlanFlags = Pick<PlanRequest, "quant" | "gpuLayers" | "contextSize" | "cacheTypeK" | "cacheTypeV" | "flashAttention"> & {gpu?: GpuChoice};

export type DefaultModel = {
    /** A catalog name, resolved exactly as `--model <name>` would be. */
    model: string,
    gpuLayers: number,
    contextSize: number,
    kvCache: KvCacheSettings,
    reason: string,
    plan: Plan
};

/** What the plan chooses from, and where the files go (its disk is probed for room). */
export type DefaultModelSource = {
    /** The catalog's files (models.json). */
    catalog: readonly PlanEntry[],
    /** The store's folder. */
    modelsDir: string,
    /** "instruct" unless said otherwise (a fine-tune plans its base variant). */
    variant?: string,
    /** The engine's probe of the backends that load (engine/inspect.ts). */
    probeBackends: ProbeBackends
};

/**
 * No --model: probe this machine and let the planner pick the catalog file, GPU layers and context
 * that fit it. When nothing fits, say what is missing instead of loading something doomed.
 */
export async function planDefaultModel(flags: PlanFlags = {}, {catalog, modelsDir, variant = "instruct", probeBackends}: DefaultModelSource): Promise<DefaultModel> {
    assertKnownQuant(flags.quant, catalog);
    const gpu = flags.gpu ?? "auto";
    const hardware = await probeHardware({
        modelsDir,
        // --gpu cpu needs no GPU probe (a CPU plan: 0 GPU layers, whichever binary runs it — on Apple
        // Silicon the Metal build, see platformBackends.ts); --gpu cuda probes only CUDA.
        probeBackends: gpu === "cpu" ? skipBackendsProbe : () => probeBackends({only: gpu === "auto" ? undefined : gpu})
    });
    if (gpu !== "auto" && gpu !== "cpu" && hardware.backend !== gpu)
        throw new MixtralError(`The ${gpu.toUpperCase()} build of llama.cpp could not be loaded on this machine.`, {
            hint: `${hardware.backends.find((status) => status.backend === gpu)?.reason ?? "It is not available here"}; try --gpu auto, or see \`mixtral doctor\`.`
        });
    const plan = planPlacement({
        hardware,
        catalog,
        variant,
        quant: flags.quant,
        gpuLayers: flags.gpuLayers,
        contextSize: flags.contextSize,
        cacheTypeK: flags.cacheTypeK,
        cacheTypeV: flags.cacheTypeV,
        flashAttention: flags.flashAttention
    });
    if (plan.model == null)
        throw new MixtralError("No model in the catalog fits this machine.", {
            hint: `${plan.reason}. Try a smaller --context-size or --quant, or pass --model <name|file.gguf> to run one anyway; \`mixtral doctor\` shows the details.`
        });
    return {model: plan.model, gpuLayers: plan.gpuLayers, contextSize: plan.contextSize, kvCache: plannedKvCache(plan, flags), reason: plan.reason, plan};
}

/**
 * The cache a plan fixes: only a quantized one, which memory needed (or the flags asked for); an f16
 * plan leaves the types to the use, which may pick a faster q8_0 on the CPU (kvCacheForUse.ts).
 */
export function plannedKvCache(plan: Plan, flags: Pick<PlanFlags, "flashAttention">): KvCacheSettings {
    const quantized = isQuantizedCacheType(plan.kvCacheTypeK) || isQuantizedCacheType(plan.kvCacheTypeV);
    return quantized ? {typeK: plan.kvCacheTypeK, typeV: plan.kvCacheTypeV, flashAttention: plan.flashAttention} : {flashAttention: flags.flashAttention};
}
