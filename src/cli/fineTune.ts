import path from "node:path";
import {readBaseModelShape} from "../adapters/baseModelShape.js";
import {convertPeftAdapter} from "../adapters/convertPeftAdapter.js";
import {ModelNotFoundError} from "../errors.js";
import type {PullResult} from "../models/download.js";
import {adapterPullTargets, fineTuneAdapterPath, fineTuneBaseName, type FineTuneSpec} from "../models/fineTunes.js";
import {formatBytes} from "../models/formatBytes.js";
import {loraPairs} from "../adapters/convertPeftAdapter.js";
import {probeRemote} from "../models/probeRemote.js";
import {fileSize} from "../models/store.js";
import {pullWithProgress} from "./commands/pull.js";
import {askYesNo, resolveModel, type ResolvedModel, type ResolveModelOptions} from "./resolveModelPath.js";
import {startProgress} from "./ui/progress.js";
import {logLine} from "./ui/terminal.js";

/**
 * `-m aurora[:QUANT]`: the base file (the plan's quant when none is given) resolved like any catalog
 * name, plus the fine-tune's adapter — from the store when converted before (no network), else pulled
 * and converted after the same consent a missing model needs.
 */
export async function resolveFineTune(spec: FineTuneSpec, options: ResolveModelOptions): Promise<ResolvedModel> {
    const {baseName, plan} = await chooseBase(spec, options.planFlags);
    const base = await resolveModel(baseName, {...options, planFlags: undefined});
    const name = spec.fineTune.name;
    const adapterPath = fineTuneAdapterPath(spec.fineTune);
    let how = "from the store";
    if (await fileSize(adapterPath) == null) {
        const size = await adapterBytes(spec, options.signal);
        if (!(options.yes === true || (options.interactive && await askYesNo(`The ${name} adapter is not downloaded. Download it now${size == null ? "" : ` (${formatBytes(size)})`}? [y/N] `, options.signal))))
            throw new ModelNotFoundError(`The ${name} adapter is not downloaded.`, {
                hint: `Run: mixtral pull ${name}` + (options.interactive ? "" : "  (or pass --yes to download it now)")
            });
        await prepareFineTuneAdapter(spec, base.path, {signal: options.signal});
        how = "pulled and converted";
    }
    return {
        ...base,
        ...(plan != null ? {gpuLayers: plan.gpuLayers, contextSize: plan.contextSize} : {}),
        lora: [{path: adapterPath, scale: 1}],
        reason: `${plan != null ? `${plan.reason}; ` : ""}${base.reason ?? base.path} + the ${name} LoRA adapter ${how} (${adapterPath})`
    };
}

/** The base model's catalog name: the quant given, else the plan's. */
export async function chooseBase(spec: FineTuneSpec, planFlags: ResolveModelOptions["planFlags"]) {
    if (spec.quant != null) return {baseName: fineTuneBaseName(spec, spec.quant)};
    const {planDefaultModel} = await import("./planDefaultModel.js");
    const plan = await planDefaultModel(planFlags, {variant: spec.fineTune.base});
    return {baseName: plan.model, plan};
}

export type PreparedAdapter = {path: string, bytes: number, files: PullResult[], converted: boolean};

/** Pulls the PEFT files (resumable, verified) and converts them once into the store; a no-op when done. */
export async function prepareFineTuneAdapter(spec: FineTuneSpec, basePath: string, options: {signal?: AbortSignal, reuse?: boolean}): Promise<PreparedAdapter> {
    const output = fineTuneAdapterPath(spec.fineTune);
    const existing = await fileSize(output);
    if (existing != null) return {path: output, bytes: existing, files: [], converted: false};
    const files: PullResult[] = [];
    for (const target of adapterPullTargets(spec.fineTune)) files.push(await pullWithProgress(target, options));
    logLine(`Converting the ${spec.fineTune.name} adapter to GGUF (once; it is kept in the store)…`);
    const progress = startProgress("Converting", {plainEveryMs: 3000});
    try {
        const converted = await convertPeftAdapter({
            folder: path.dirname(files[0]!.path),
            output,
            // the adapter's own precision is 16-bit; F16 keeps it at its download size
            type: "F16",
            base: await readBaseModelShape(basePath),
            onTensorWritten: ({index, count}) => progress.update((index + 1) / count)
        });
        progress.stop();
        logLine(`${spec.fineTune.name} adapter ready: ${loraPairs(converted.tensors)}, rank ${converted.ranks.join(", ")}, ${formatBytes(converted.fileBytes)}.`);
        return {path: output, bytes: converted.fileBytes, files, converted: true};
    } finally {
        progress.stop();
    }
}

/** The catalog's size for the adapter, else the server's (one quick look, no retries). */
async function adapterBytes(spec: FineTuneSpec, signal: AbortSignal | undefined): Promise<number | undefined> {
    if (spec.fineTune.bytes != null) return spec.fineTune.bytes;
    const weights = adapterPullTargets(spec.fineTune).find((target) => target.kind === "remote" && target.file.endsWith(".safetensors"));
    if (weights?.kind !== "remote") return undefined;
    const remote = await probeRemote(weights.url, {attempts: 1, baseDelayMs: 0, stallMs: 15_000}, {signal}).catch(() => undefined);
    return remote?.bytes;
}
