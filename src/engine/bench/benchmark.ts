import type {Llama, LlamaContextSequence, LlamaModel, Token} from "node-llama-cpp";
import type {
    BenchEngine, BenchInstance, BenchLoadedModel, BenchSystemInfo, E2eSample, InstanceTimings, RunInstanceOptions
} from "../../bench/types.js";
import {architectureMetadata} from "../../gguf/architectureMetadata.js";
import {EngineError, InterruptedError, ModelFileError} from "../../errors.js";
import type {ValidatedGguf} from "../../gguf/validateGguf.js";
import {createBenchDecoder, type BenchDecoder} from "./benchDecoder.js";
import {benchSystemInfo, gpuDeviceNamesOf} from "./benchSystemInfo.js";
import {generate} from "../direct/generate.js";
import {tokenizePrompt} from "../generation/tokenizePrompt.js";
import {benchFlagNames, checkKvCacheSettings} from "../../hardware/kvCacheSettings.js";
import {contextKvOptions} from "../load/contextKvOptions.js";
import {backendOf, loadLlama, type LoadLlamaOptions} from "../native/loadLlama.js";
import {checkLoraAdapters, loraContextOption} from "../load/loraAdapters.js";
import type {LoraAdapter} from "../load/loraAdapters.js";
import type {GpuChoice} from "../../hardware/types.js";
import {expertsOverride} from "../load/expertsOverride.js";
import {vocabularySizeOf} from "../load/vocabularySize.js";
import {nativeFilePath} from "../../windowsPaths.js";

/** llama-bench uses std::rand(); any fixed-seed generator serves, as random weights make tokens equal. */
function randomTokens(seed: number) {
    let state = seed >>> 0 || 1;
    return (vocabularySize: number): Token => {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        return ((state >>> 0) % vocabularySize) as Token;
    };
}

function throwIfAborted(signal: AbortSignal | undefined) {
    if (signal?.aborted) throw new InterruptedError("The benchmark was interrupted.");
}

function parameterCount(file: ValidatedGguf): number {
    let count = 0;
    for (const tensor of file.info.tensorInfo ?? [])
        count += tensor.dimensions.reduce<number>((product, dimension) => product * Number(dimension), 1);
    return count;
}

function layerCountOf(file: ValidatedGguf): number {
    return Number(architectureMetadata(file.info).block_count ?? 0);
}

/**
 * The timing loops of `mixtral bench`, modelled on llama-bench's test_prompt / test_gen: random
 * tokens, the KV cache cleared before each repetition, an untimed warm-up, and nothing in the timed
 * loop but llama_decode (see benchDecoder.ts for how the JavaScript overhead is kept out of it).
 */
class BenchModel implements BenchLoadedModel {
    private readonly nextRandom = randomTokens(1);
    private readonly vocabularySize: number;

    constructor(private readonly model: LlamaModel, readonly file: ValidatedGguf, readonly info: BenchLoadedModel["info"], private readonly lora?: readonly LoraAdapter[]) {
        this.vocabularySize = vocabularySizeOf(file);
    }

    private random(): Token {
        return this.nextRandom(this.vocabularySize);
    }

    /** llama-bench starts prompts and generations with BOS when the model adds one. */
    private firstToken(): Token {
        const bos = this.model.tokens.bos;
        return this.model.tokens.shouldPrependBosToken && bos != null ? bos : this.random();
    }

    private promptTokens(count: number): Token[] {
        const tokens: Token[] = [];
        for (let i = 0; i < count; i++) tokens.push(i === 0 ? this.firstToken() : this.random());
        return tokens;
    }

    private async prompt(decoder: BenchDecoder, count: number) {
        if (count > 0) await decoder.decode(this.promptTokens(count));
    }

    private async generation(decoder: BenchDecoder, count: number, signal: AbortSignal | undefined) {
        let token = this.firstToken();
        for (let i = 0; i < count; i++) {
            await decoder.decode([token]);
            token = this.random();
            if (signal?.aborted) return;
        }
    }

    async run(instance: BenchInstance, options: RunInstanceOptions): Promise<InstanceTimings> {
        const {signal} = options;
        // llama-bench's n_ctx = n_prompt + n_gen + n_depth; node-llama-cpp keeps one cell free.
        const needed = instance.nPrompt + instance.nGen + instance.nDepth + 1;
        const kvCache = {typeK: instance.typeK, typeV: instance.typeV, flashAttention: instance.flashAttention};
        checkKvCacheSettings(kvCache, this.file, benchFlagNames);
        let context;
        try {
            context = await this.model.createContext({
                contextSize: Math.max(needed, 16),
                batchSize: instance.batchSize,
                sequences: 1,
                threads: {ideal: instance.threads, min: instance.threads},
                ...contextKvOptions(kvCache),
                lora: loraContextOption(this.lora),
                createSignal: signal
            });
        } catch (error) {
            throwIfAborted(signal);
            throw new EngineError(`Could not create a ${needed}-token context with ${instance.threads} threads.`, {
                hint: "There is probably not enough memory; try smaller -p/-n/-d or fewer --gpu-layers.",
                cause: error
            });
        }
        try {
            const sequence = context.getSequence();
            const decoder = createBenchDecoder(context, sequence);
            if (options.warmup) {
                options.onStep?.("warm-up");
                if (instance.nPrompt > 0) await this.prompt(decoder, instance.nPrompt);
                if (instance.nGen > 0) await this.generation(decoder, 1, signal);
            }
            const samplesNs: number[] = [];
            for (let repetition = 1; repetition <= options.repetitions; repetition++) {
                throwIfAborted(signal);
                options.onStep?.(`rep ${repetition}/${options.repetitions}`);
                await decoder.clear();
                await this.prompt(decoder, instance.nDepth);
                const started = process.hrtime.bigint();
                await this.prompt(decoder, instance.nPrompt);
                await this.generation(decoder, instance.nGen, signal);
                samplesNs.push(Number(process.hrtime.bigint() - started));
            }
            throwIfAborted(signal);
            // The user's path goes through the sequence's own bookkeeping: start it from an empty cache.
            await decoder.clear();
            const e2e = options.e2e && instance.nGen > 0 ? await this.endToEnd(sequence, instance, options) : undefined;
            return {samplesNs, e2e};
        } catch (error) {
            throwIfAborted(signal);
            if (error instanceof EngineError || error instanceof InterruptedError) throw error;
            throw new EngineError(`llama.cpp failed while decoding: ${error instanceof Error ? error.message : String(error)}`, {cause: error});
        } finally {
            await context.dispose().catch(() => {});
        }
    }

    /**
     * What a user feels: the prompt as text, tokenized, evaluated, then tokens sampled with the
     * default settings and detokenized (src/engine/generate.ts, the path `complete` uses).
     */
    private async endToEnd(sequence: LlamaContextSequence, instance: BenchInstance, options: RunInstanceOptions): Promise<E2eSample[]> {
        const samples: E2eSample[] = [];
        const promptText = this.model.detokenize(this.promptTokens(instance.nPrompt).slice(1));
        for (let repetition = 1; repetition <= options.repetitions; repetition++) {
            throwIfAborted(options.signal);
            options.onStep?.(`e2e ${repetition}/${options.repetitions}`);
            await sequence.clearHistory();
            if (instance.nDepth > 0) await sequence.evaluateWithoutGeneratingNewTokens(this.promptTokens(instance.nDepth));
            const started = performance.now();
            const tokens = tokenizePrompt(sequence, promptText);
            const tokenizeMs = performance.now() - started;
            const result = await generate(sequence, tokens, {
                maxTokens: instance.nGen, temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, seed: repetition, stop: []
            }, {signal: options.signal});
            samples.push({firstTokenMs: tokenizeMs + result.timings.firstTokenMs, tokensPerSecond: result.timings.generatedTokensPerSecond});
        }
        return samples;
    }

    async dispose() {
        await this.model.dispose().catch(() => {});
    }
}

export type BenchEngineOptions = {
    gpu: GpuChoice,
    /** The largest -t; absent, llama.cpp's own default (one thread per math core), as llama-bench's. */
    maxThreads?: number,
    onLog?: (message: string) => void,
    /** --lora: applied to every model (each checked against it first) */
    lora?: readonly LoraAdapter[],
    signal?: AbortSignal,
    /** node-llama-cpp's getLlama, the environment and the usable cores, replaceable for tests (core topology). */
    native?: Pick<LoadLlamaOptions, "getLlama" | "env" | "usableCores">
};

/** One llama.cpp binding for the whole run; models are loaded one at a time. */
export async function createBenchEngine(options: BenchEngineOptions): Promise<BenchEngine & {defaultThreads: number}> {
    const llama: Llama = await loadLlama({gpu: options.gpu, threads: options.maxThreads, onLog: options.onLog, signal: options.signal, ...options.native});
    const backend = backendOf(llama);
    // The command prints the build stamp before the runner starts: the binary's ELF is read once.
    let systemInfo: Promise<BenchSystemInfo> | undefined;
    return {
        // Without -t: what loadLlama chose from the math cores (and MIXTRAL_THREADS), as complete does.
        defaultThreads: llama.maxThreads,
        systemInfo: () => systemInfo ??= benchSystemInfo(llama),
        gpuDeviceNames: () => gpuDeviceNamesOf(llama),
        async loadModel(file, gpuLayers, {signal, onProgress}) {
            const {path} = file;
            await checkLoraAdapters(options.lora, file);
            let model: LlamaModel;
            try {
                model = await llama.loadModel({
                    modelPath: nativeFilePath(path),
                    gpuLayers: backend === "cpu" ? 0 : gpuLayers,
                    onLoadProgress: onProgress,
                    loadSignal: signal,
                    // --experts, checked when the runner validated the file (llama.cpp's --override-kv).
                    metadataOverrides: expertsOverride(file)
                });
            } catch (error) {
                throwIfAborted(signal);
                throw new ModelFileError(`llama.cpp could not load ${path}.`, {
                    hint: "The file may be corrupt or use a format this llama.cpp build does not know; run with --verbose for llama.cpp's log.",
                    cause: error
                });
            }
            return new BenchModel(model, file, {
                filename: path,
                typeDescription: model.typeDescription,
                size: model.size,
                parameters: parameterCount(file),
                gpuLayers: model.gpuLayers,
                layerCount: layerCountOf(file),
                expertUsedCount: file.experts.used
            }, options.lora);
        },
        dispose: () => llama.dispose()
    };
}
