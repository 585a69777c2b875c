import {probeBackends, skipBackendsProbe} from "../engine/probeBackends.js";
import type {GpuChoice} from "../engine/types.js";
import type {KvCacheSettings} from "../engine/kvCacheSettings.js";
import {MixtralError} from "../errors.js";
import {planPlacement, type Plan, type PlanRequest} from "./planPlacement.js";
import {probeHardware} from "./probeHardware.js";
import {loadCatalog} from "../models/catalog.js";
import {storeDir} from "../models/store.js";
import {assertKnownQuant} from "../models/knownQuant.js";

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

/**
 * No --model: probe this machine and let the planner pick the catalog file, GPU layers and context
 * that fit it. When nothing fits, say what is missing instead of loading something doomed.
 */
export async function planDefaultModel(flags: PlanFlags = {}, {variant = "instruct"}: {variant?: string} = {}): Promise<DefaultModel> {
    assertKnownQuant(flags.quant, loadCatalog().models);
    const gpu = flags.gpu ?? "auto";
    const hardware = await probeHardware({
        modelsDir: storeDir(),
        // --gpu cpu needs no GPU probe; --gpu cuda probes only CUDA.
        probeBackends: gpu === "cpu" ? skipBackendsProbe : () => probeBackends({only: gpu === "auto" ? undefined : gpu})
    });
    if (gpu !== "auto" && gpu !== "cpu" && hardware.backend !== gpu)
        throw new MixtralError(`The ${gpu.toUpperCase()} build of llama.cpp could not be loaded on this machine.`, {
            hint: `${hardware.backends.find((status) => status.backend === gpu)?.reason ?? "It is not available here"}; try --gpu auto, or see \`mixtral doctor\`.`
        });
    const plan = planPlacement({
        hardware,
        catalog: loadCatalog().models,
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
    const kvCache: KvCacheSettings = {typeK: plan.kvCacheTypeK, typeV: plan.kvCacheTypeV, flashAttention: plan.flashAttention};
    return {model: plan.model, gpuLayers: plan.gpuLayers, contextSize: plan.contextSize, kvCache, reason: plan.reason, plan};
}
