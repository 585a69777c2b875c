import {InsufficientMemoryError, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel} from "node-llama-cpp";
import {EngineError, InterruptedError, ModelFileError} from "../../errors.js";
import {validateGgufFile, type ValidatedGguf} from "../../gguf/validateGguf.js";
import {checkLoraAdapters, loraContextOption} from "./loraAdapters.js";
import type {LoraAdapter} from "./loraAdapters.js";
import {backendOf, loadLlama} from "../native/loadLlama.js";
import {ThreadPolicy, type ThreadSwitchEvent} from "../native/threadPolicy.js";
import {checkKvCacheSettings, headSizes, type KvCacheSettings} from "../../hardware/kvCacheSettings.js";
import {chooseKvCache, type KvUse} from "../../hardware/kvCacheForUse.js";
import {threadsFromEnv} from "../../hardware/cpuCores.js";
import {contextKvOptions} from "./contextKvOptions.js";
import type {Backend, GpuChoice} from "../../hardware/types.js";
import type {ExpertsUsed} from "../../gguf/expertsUsed.js";
import {expertsOverride} from "./expertsOverride.js";
import {nativeFilePath} from "../../windowsPaths.js";

export type OpenModelOptions = {
    path: string,
    gpu: GpuChoice,
    /** "auto" lets node-llama-cpp fit layers to free VRAM; a number is exact. */
    gpuLayers?: number | "auto" | "max",
    contextSize?: number,
    threads?: number,
    batchSize?: number,
    /** KV-cache types and flash attention given (flags, or the plan to fit memory); checked against the file before anything loads. */
    kvCache?: KvCacheSettings,
    /**
     * What the context is for, which chooses the cache types not given (hardware/kvCacheForUse.ts);
     * complete's prompt is counted in tokens once the model is loaded. Without it: f16.
     */
    use?: ModelUse,
    /** Sequences the context holds (serve decodes several together); contextSize is per sequence. */
    sequences?: number,
    /**
     * `sequences` is the most wanted, not a must: fewer are opened (down to 1) while node-llama-cpp's
     * estimate of the context's memory says that many do not fit in what is free (serve without --parallel).
     */
    fewerSequencesIfShort?: boolean,
    /** LoRA adapters (GGUF) applied at run time, checked against the model before loading. */
    lora?: readonly LoraAdapter[],
    /** --experts: experts each token is routed to (checked against the file first); the file's own when absent. */
    expertsUsed?: number,
    onLoadProgress?: (fraction: number) => void,
    onLog?: (message: string) => void,
    /** Each change of the thread count of generated tokens (without --threads the count adapts to the machine's load). */
    onThreadSwitch?: (change: ThreadSwitchEvent) => void,
    signal?: AbortSignal
};

/** KvUse with complete's prompt as text (the engine counts its tokens). */
export type ModelUse = {kind: "chat"} | {kind: "serve"} | {kind: "complete", maxTokens: number, prompt?: string};

export type OpenedModel = {
    llama: Llama,
    model: LlamaModel,
    context: LlamaContext,
    sequence: LlamaContextSequence,
    file: ValidatedGguf,
    backend: Backend,
    threads: number,
    contextSize: number,
    /** Sequences the context holds (each of contextSize tokens). */
    sequences: number,
    /** The KV-cache settings the context was created with (llama.cpp's defaults filled in), and why. */
    kvCache: Required<KvCacheSettings>,
    kvCacheReason: string,
    /** The experts each token is routed to, and the file's own count. */
    experts: ExpertsUsed,
    loadMs: number,
    dispose(): Promise<void>
};

/** Default context when neither the user nor a plan says: enough for chat, small enough for any RAM. */
const defaultContextSize = 4096;

export async function openModel(options: OpenModelOptions): Promise<OpenedModel> {
    const started = performance.now();
    // Validate before the native side sees the file: llama.cpp aborts the process on many bad files.
    const file = await validateGgufFile(options.path, {expertsUsed: options.expertsUsed});
    checkKvCacheSettings(options.kvCache ?? {}, file);
    await checkLoraAdapters(options.lora, file);
    const llama = await loadLlama({gpu: options.gpu, threads: options.threads, onLog: options.onLog, signal: options.signal});
    if (options.signal?.aborted) {
        await disposeQuietly(llama);
        throw cancelled();
    }
    const backend = backendOf(llama);

    let model: LlamaModel;
    try {
        model = await llama.loadModel({
            modelPath: nativeFilePath(options.path),
            gpuLayers: backend === "cpu" ? 0 : (options.gpuLayers ?? "auto"),
            onLoadProgress: options.onLoadProgress,
            loadSignal: options.signal,
            metadataOverrides: expertsOverride(file)
        });
    } catch (error) {
        await disposeQuietly(llama);
        if (options.signal?.aborted) throw cancelled(error);
        throw new ModelFileError(`llama.cpp could not load ${options.path}.`, {
            hint: "The file may be corrupt or use a format this llama.cpp build does not know; run with --verbose for llama.cpp's log.",
            cause: error
        });
    }

    const kvCache = chooseKvCache({use: kvUseOf(options.use, model), backend, given: options.kvCache ?? {}, headSizes: headSizes(file)});
    const trainContext = model.trainContextSize;
    const contextSize = options.contextSize ?? Math.min(trainContext, defaultContextSize);
    let context: LlamaContext;
    let sequences = options.sequences ?? 1;
    for (;;) {
        try {
            context = await model.createContext({
                contextSize,
                sequences,
                threads: options.threads ?? llama.maxThreads,
                batchSize: options.batchSize,
                ...contextKvOptions(kvCache),
                lora: loraContextOption(options.lora),
                createSignal: options.signal
            });
            break;
        } catch (error) {
            // The estimate is made before anything is allocated, so asking for fewer costs nothing.
            if (error instanceof InsufficientMemoryError && options.fewerSequencesIfShort === true && sequences > 1 && options.signal?.aborted !== true) {
                sequences--;
                continue;
            }
            await disposeQuietly(model, llama);
            if (options.signal?.aborted) throw cancelled(error);
            const several = sequences > 1 ? ` with ${sequences} sequences` : "";
            throw new EngineError(`Could not create a ${contextSize}-token context${several} for this model.`, {
                hint: `There is probably not enough memory; try a smaller --context-size${several !== "" ? ", fewer --parallel sequences" : ""} or fewer --gpu-layers.`,
                cause: error
            });
        }
    }

    // A thread count the user chose (--threads, MIXTRAL_THREADS) is used as given; the default adapts per token (see native/threadPolicy.ts).
    const threadPolicy = ThreadPolicy.of(context);
    if (threadPolicy != null) {
        if (options.threads != null || threadsFromEnv() != null) threadPolicy.keepUserThreads();
        threadPolicy.onSwitch = options.onThreadSwitch;
    }
    const sequence = context.getSequence();
    return {
        llama, model, context, sequence, file, backend,
        threads: context.currentThreads,
        contextSize: context.contextSize,
        sequences,
        kvCache: {typeK: kvCache.typeK, typeV: kvCache.typeV, flashAttention: kvCache.flashAttention},
        kvCacheReason: kvCache.reason,
        experts: file.experts,
        loadMs: performance.now() - started,
        dispose: () => disposeQuietly(context, model, llama)
    };
}

/** complete's prompt counted in tokens as complete will tokenize it (engine/generation/tokenizePrompt.ts: BOS and all). */
function kvUseOf(use: ModelUse | undefined, model: LlamaModel): KvUse | undefined {
    if (use == null || use.kind !== "complete") return use;
    if (use.prompt == null) return {kind: "complete", maxTokens: use.maxTokens};
    const bos = model.tokens.shouldPrependBosToken && model.tokens.bos != null ? 1 : 0;
    return {kind: "complete", maxTokens: use.maxTokens, promptTokens: model.tokenize(use.prompt, true).length + bos};
}

function cancelled(cause?: unknown): InterruptedError {
    return new InterruptedError("Model loading was cancelled.", {cause});
}

/** Frees native resources, innermost first; one that fails to close must not keep the others open. */
async function disposeQuietly(...resources: {dispose(): Promise<void>}[]) {
    for (const resource of resources) await resource.dispose().catch(() => {});
}
