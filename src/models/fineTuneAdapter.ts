import path from "node:path";
import {readBaseModelShape} from "../adapters/baseModelShape.js";
import {convertPeftAdapter} from "../adapters/convertPeftAdapter.js";
import {planDefaultModel, type PlanFlags} from "../hardware/planDefaultModel.js";
import {consentToDownload, pullFile, type AcquireHooks, type PullHooks} from "./acquisition.js";
import {loadCatalog} from "./catalog.js";
import type {PullResult} from "./download.js";
import {adapterPullTargets, fineTuneAdapterPath, fineTuneBaseName, type FineTuneSpec} from "./fineTunes.js";
import {formatBytes} from "../formatBytes.js";
import {probeRemote} from "./probeRemote.js";
import {parseModelSpec} from "./resolveName.js";
import {fileSize, storeDir} from "./store.js";

/** The base model's catalog name: the quant given, else the plan's. */
export async function chooseFineTuneBase(spec: FineTuneSpec, planFlags: PlanFlags | undefined) {
    if (spec.quant != null) return {baseName: fineTuneBaseName(spec, spec.quant)};
    const {probeBackends} = await import("../engine/inspect.js");
    const plan = await planDefaultModel(planFlags, {catalog: loadCatalog().models, modelsDir: storeDir(), variant: spec.fineTune.base, probeBackends});
    return {baseName: plan.model, plan};
}

/**
 * The fine-tune's GGUF adapter for a run: from the store when converted before (no network), else
 * pulled and converted after the consent a missing model needs.
 */
export async function fineTuneAdapterFor(spec: FineTuneSpec, basePath: string, hooks: AcquireHooks): Promise<{path: string, how: string}> {
    const adapterPath = fineTuneAdapterPath(spec.fineTune);
    if (await fileSize(adapterPath) != null) return {path: adapterPath, how: "from the store"};
    const name = spec.fineTune.name;
    const size = await adapterBytes(spec, hooks.signal);
    await consentToDownload(`The ${name} adapter`, size == null ? "" : ` (${formatBytes(size)})`, name, hooks);
    await prepareFineTuneAdapter(spec, basePath, {signal: hooks.signal, onProgress: hooks.onProgress});
    return {path: adapterPath, how: "pulled and converted"};
}

export type PreparedAdapter = {path: string, bytes: number, files: PullResult[], converted: boolean};

/** Pulls the PEFT files (resumable, verified) and converts them once into the store; a no-op when done. */
export async function prepareFineTuneAdapter(spec: FineTuneSpec, basePath: string, hooks: PullHooks): Promise<PreparedAdapter> {
    const output = fineTuneAdapterPath(spec.fineTune);
    const existing = await fileSize(output);
    if (existing != null) return {path: output, bytes: existing, files: [], converted: false};
    const files: PullResult[] = [];
    for (const target of adapterPullTargets(spec.fineTune)) files.push(await pullFile(target, hooks));
    const adapter = spec.fineTune.name;
    hooks.onProgress?.({type: "convertStart", adapter});
    const converted = await convertPeftAdapter({
        folder: path.dirname(files[0]!.path),
        output,
        // the adapter's own precision is 16-bit; F16 keeps it at its download size
        type: "F16",
        base: await readBaseModelShape(basePath),
        onTensorWritten: ({index, count}) => hooks.onProgress?.({type: "convertProgress", adapter, fraction: (index + 1) / count})
    });
    hooks.onProgress?.({type: "converted", adapter, tensors: converted.tensors, ranks: converted.ranks, fileBytes: converted.fileBytes});
    return {path: output, bytes: converted.fileBytes, files, converted: true};
}

export type PulledFineTune = {baseName: string, base: PullResult, adapter: PreparedAdapter};

/**
 * `mixtral pull aurora[:QUANT]`: the base file (the plan's quant when none is given) and the
 * fine-tune's PEFT adapter, both verified, then the adapter converted to GGUF.
 */
export async function pullFineTune(spec: FineTuneSpec, hooks: PullHooks): Promise<PulledFineTune> {
    const {baseName} = await chooseFineTuneBase(spec, {});
    const baseSpec = parseModelSpec(baseName, loadCatalog());
    if (baseSpec.kind === "path") throw new Error(`${baseName} is not a catalog name`);
    const base = await pullFile(baseSpec, hooks);
    const adapter = await prepareFineTuneAdapter(spec, base.path, hooks);
    return {baseName, base, adapter};
}

/** The catalog's size for the adapter, else the server's (one quick look, no retries). */
async function adapterBytes(spec: FineTuneSpec, signal: AbortSignal | undefined): Promise<number | undefined> {
    if (spec.fineTune.bytes != null) return spec.fineTune.bytes;
    const weights = adapterPullTargets(spec.fineTune).find((target) => target.kind === "remote" && target.file.endsWith(".safetensors"));
    if (weights?.kind !== "remote") return undefined;
    const remote = await probeRemote(weights.url, {attempts: 1, baseDelayMs: 0, stallMs: 15_000}, {signal}).catch(() => undefined);
    return remote?.bytes;
}
