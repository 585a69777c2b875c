import type {KvCacheSettings} from "../hardware/kvCacheSettings.js";
import type {LoraAdapter} from "../engine/index.js";
import {UsageError} from "../errors.js";
import type {PlanFlags} from "../hardware/planDefaultModel.js";
import {consentToDownload, pullFile, type AcquireHooks} from "./acquisition.js";
import {loadCatalog} from "./catalog.js";
import type {PullTarget} from "./download.js";
import {findFineTune, type FineTuneSpec} from "./fineTunes.js";
import {formatBytes} from "../formatBytes.js";
import {parseModelSpec} from "./resolveName.js";
import {fileSize, storeDir, storePathFor} from "./store.js";

export type ResolveModelOptions = AcquireHooks & {
    /** Without a model name: what the hardware plan honours (--gpu, --quant, --gpu-layers, --context-size, KV cache). */
    planFlags?: PlanFlags
};

export type ResolvedModel = {
    path: string,
    /** Set when a plan chose them; flags given by the user always win. */
    gpuLayers?: number,
    contextSize?: number,
    /** The KV-cache types and flash attention the plan fitted the context with. */
    kvCache?: KvCacheSettings,
    /** LoRA adapters a catalog fine-tune (e.g. aurora) applies on top of the file. */
    lora?: LoraAdapter[],
    /** One line saying why this file and placement were chosen (shown with --verbose). */
    reason?: string
};

/**
 * Turns a --model value into a local GGUF path: a path as given; a catalog name, hf: name or URL as
 * its file in the store, pulled first when missing and the confirm hook agrees (else the error says
 * which `mixtral pull` to run); a catalog fine-tune as its base file plus its adapter. Without a
 * name, the hardware plan picks one. A model already in the store is used without any network request.
 */
export async function resolveModel(model: string | undefined, options: ResolveModelOptions): Promise<ResolvedModel> {
    // ---- No name: the hardware plan picks a catalog name, resolved as that name would be. ----
    if (model == null) {
        const {planDefaultModel} = await import("../hardware/planDefaultModel.js");
        const {probeBackends} = await import("../engine/inspect.js");
        const planned = await planDefaultModel(options.planFlags, {catalog: loadCatalog().models, modelsDir: storeDir(), probeBackends});
        const resolved = await resolveModel(planned.model, options);
        return {...resolved, gpuLayers: planned.gpuLayers, contextSize: planned.contextSize, kvCache: planned.kvCache, reason: `${planned.reason}; ${resolved.reason ?? resolved.path}`};
    }
    if (options.planFlags?.quant != null)
        throw new UsageError("--quant picks a catalog file, so it does not combine with --model.", {hint: `Pass --model ${options.planFlags.quant} for that quant, or drop --quant.`});

    // ---- A catalog fine-tune (aurora[:quant]): its base file plus its LoRA adapter. ----
    const fineTune = findFineTune(model, loadCatalog());
    if (fineTune != null) return resolveFineTune(fineTune, options);
    return resolveModelFile(model, options);
}

/** A path, a catalog name, hf:<owner>/<repo>/<file>.gguf or a URL as a local file. */
async function resolveModelFile(model: string, hooks: AcquireHooks): Promise<ResolvedModel> {
    const spec = parseModelSpec(model, loadCatalog());
    if (spec.kind === "path") return {path: spec.path};
    const stored = storePathFor(spec);
    if (await fileSize(stored) != null) return {path: stored, reason: `${describe(spec)} from the store (${stored})`};
    const size = spec.kind === "catalog" ? ` (${spec.entry.bytesExact ? "" : "about "}${formatBytes(spec.entry.bytes)})` : "";
    await consentToDownload(describe(spec), size, spec.kind === "catalog" ? spec.entry.name : model, hooks);
    const pulled = await pullFile(spec, hooks);
    return {path: pulled.path, reason: `${describe(spec)} pulled into the store (${pulled.path})`};
}

/**
 * `aurora[:QUANT]`: the base file (the plan's quant when none is given) resolved like any catalog
 * name, plus the fine-tune's adapter — from the store when converted before (no network), else
 * pulled and converted after the same consent a missing model needs.
 */
async function resolveFineTune(spec: FineTuneSpec, options: ResolveModelOptions): Promise<ResolvedModel> {
    // The conversion (adapters/) loads only for a fine-tune.
    const {chooseFineTuneBase, fineTuneAdapterFor} = await import("./fineTuneAdapter.js");
    const {baseName, plan} = await chooseFineTuneBase(spec, options.planFlags);
    const base = await resolveModelFile(baseName, options);
    const adapter = await fineTuneAdapterFor(spec, base.path, options);
    return {
        ...base,
        ...(plan != null ? {gpuLayers: plan.gpuLayers, contextSize: plan.contextSize} : {}),
        lora: [{path: adapter.path, scale: 1}],
        reason: `${plan != null ? `${plan.reason}; ` : ""}${base.reason ?? base.path} + the ${spec.fineTune.name} LoRA adapter ${adapter.how} (${adapter.path})`
    };
}

function describe(spec: PullTarget) {
    return spec.kind === "catalog" ? spec.entry.name : spec.label;
}
