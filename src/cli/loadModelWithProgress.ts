import {kvCacheFrom} from "../hardware/kvCacheSettings.js";
import type {LoraAdapter} from "../engine/index.js";
import {openModel, type OpenModelOptions, type OpenedModel} from "../engine/index.js";
import {kvCacheLabel, type CacheType, type FlashAttentionMode} from "../hardware/kvCacheTypes.js";
import {loraAdaptersOf} from "./flags/loraOptions.js";
import {InterruptedError} from "../errors.js";
import {startProgress} from "./ui/progress.js";
import {logLine} from "./ui/terminal.js";
import type {ResolvedModel} from "../models/resolveModel.js";
import {resolveModelFlags} from "./resolveModelPath.js";
import {warnAboutThreads} from "./warnAboutThreads.js";
import {describeThreadSwitch} from "./describeThreadSwitch.js";
import {vulkanInsteadOfCudaNote} from "../hardware/platformBackends.js";
import {nvidiaDriverPresent} from "../hardware/probeSystem.js";
import type {ExpertsFlag} from "./flags/expertsFlag.js";
import {describeExperts} from "../gguf/expertsUsed.js";

export type ModelFlags = ExpertsFlag & {
    model?: string,
    contextSize?: number,
    threads?: number,
    gpu: OpenModelOptions["gpu"],
    gpuLayers?: OpenModelOptions["gpuLayers"],
    /** A catalog quant for the plan to use when no --model is given. */
    quant?: string,
    cacheTypeK?: CacheType,
    cacheTypeV?: CacheType,
    flashAttention?: FlashAttentionMode,
    /** --yes: consent to download a catalog model that is missing. */
    yes?: boolean,
    verbose?: boolean,
    /** --lora and --lora-scaled */
    lora?: LoraAdapter[],
    loraScaled?: LoraAdapter[]
};

/**
 * Engine settings a command adds to the flags: complete --lines --parallel and perplexity: several
 * sequences in one context, and perplexity's -b; chat and complete: what the context is for (which
 * chooses the KV cache's type on the CPU).
 */
export type EngineExtras = Pick<OpenModelOptions, "sequences" | "batchSize" | "use">;

/** Loads a model with a progress bar on stderr (TTY only) and llama.cpp's log with --verbose. */
export async function loadModelWithProgress(resolved: ResolvedModel, flags: ModelFlags, signal: AbortSignal, extra: EngineExtras = {}): Promise<OpenedModel> {
    if (flags.verbose === true && resolved.reason != null) logLine(`plan: ${resolved.reason}`);
    warnAboutThreads(flags.threads);
    const progress = startProgress("Loading model", {plainWhenPiped: false});
    let opened: OpenedModel;
    try {
        opened = await openModel({
            path: resolved.path,
            gpu: flags.gpu,
            // What the user typed wins over the plan.
            gpuLayers: flags.gpuLayers ?? resolved.gpuLayers,
            contextSize: flags.contextSize ?? resolved.contextSize,
            kvCache: kvCacheFrom(flags, resolved.kvCache),
            threads: flags.threads,
            // a catalog fine-tune (aurora) brings its adapter; --lora adds to it
            lora: [...resolved.lora ?? [], ...loraAdaptersOf(flags)],
            expertsUsed: flags.experts,
            onLoadProgress: (fraction) => progress.update(fraction),
            onLog: flags.verbose === true ? (message) => logLine(message) : undefined,
            onThreadSwitch: flags.verbose === true ? (change) => logLine(describeThreadSwitch(change)) : undefined,
            signal,
            ...extra
        });
    } finally {
        progress.stop();
    }
    // A Ctrl+C in the last moment of the load, which nothing after it would notice.
    if (signal.aborted) {
        await opened.dispose();
        throw new InterruptedError();
    }
    const vulkanNote = opened.backend === "vulkan" ? vulkanInsteadOfCudaNote(opened.backend, flags.gpu, nvidiaDriverPresent()) : undefined;
    if (vulkanNote != null) logLine(vulkanNote);
    // The dial changes every answer: say so whenever it is not the file's own setting.
    if (flags.verbose === true && opened.experts.used !== opened.experts.fileUsed)
        logLine(`--experts: each token uses ${describeExperts(opened.experts)}`);
    if (flags.verbose === true) logLine(describeKvCache(opened));
    return opened;
}

/**
 * What chat and complete do first: turn --model (or the hardware plan, without it) into a file,
 * asking before a download only when a person is at the terminal, then load it.
 */
export async function resolveAndLoadModel(flags: ModelFlags, signal: AbortSignal, extra: EngineExtras = {}): Promise<OpenedModel> {
    return loadModelWithProgress(await resolveModelFlags(flags, signal), flags, signal, extra);
}

/** "KV cache: q8_0, flash attention on (chat on the CPU: …)": the --verbose line of chat, complete and serve. */
export function describeKvCache({kvCache, kvCacheReason}: Pick<OpenedModel, "kvCache" | "kvCacheReason">): string {
    return `KV cache: ${kvCacheLabel(kvCache.typeK, kvCache.typeV)}, flash attention ${kvCache.flashAttention} (${kvCacheReason})`;
}
