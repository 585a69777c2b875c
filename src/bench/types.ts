import type {ValidatedGguf} from "../gguf/validateGguf.js";
import type {CacheType, FlashAttentionMode} from "../hardware/kvCacheTypes.js";

/**
 * The shapes shared by the benchmark runner, its printers and the engine's timing loops.
 * Field names of BenchRow follow llama-bench's JSON output exactly, so its tools read our files.
 */

/** One test: llama-bench's cmd_params_instance, reduced to what this tool can vary. */
export type BenchInstance = {
    /** The --model value as given (a path or a catalog name). */
    model: string,
    /** --experts: experts each token is routed to; absent, the file's own count. */
    expertsUsed?: number,
    nPrompt: number,
    nGen: number,
    nDepth: number,
    threads: number,
    /** A number of layers, or "max" for all of them. */
    gpuLayers: number | "max",
    batchSize: number,
    typeK: CacheType,
    typeV: CacheType,
    flashAttention: FlashAttentionMode
};

/** Facts about one loaded model file, the same for every test run on it. */
export type BenchModelInfo = {
    filename: string,
    /** llama.cpp's llama_model_desc, e.g. "llama 8x7B Q4_K - Medium". */
    typeDescription: string,
    /** llama_model_size: bytes of all tensors. */
    size: number,
    /** llama_model_n_params: elements of all tensors. */
    parameters: number,
    /** The layers really offloaded (resolves "max"). */
    gpuLayers: number,
    /** Layers of the model (block_count): all of them plus the output layer are "max". */
    layerCount: number,
    /** Experts each token was routed to in this load (--experts, else the file's); 0 for a dense model. */
    expertUsedCount: number
};

/** The build and machine stamp llama-bench puts on every row. */
export type BenchSystemInfo = {
    buildCommit: string,
    buildNumber: number,
    cpuInfo: string,
    gpuInfo: string,
    /** llama-bench's get_backend(): the non-CPU backends, or "CPU". */
    backends: string,
    nodeLlamaCppVersion: string
};

export type E2eSample = {firstTokenMs: number, tokensPerSecond: number};

/** What a timing loop reports for one instance. */
export type InstanceTimings = {
    samplesNs: number[],
    /** Samples of pathological repetitions that were run again (samplesNs holds the re-runs). */
    rerunSamplesNs?: number[],
    /** Only with --mode e2e and a test that generates. */
    e2e?: E2eSample[]
};

/** A row exactly as llama-bench writes it (same names, types and meanings), plus our own fields. */
export type BenchRow = {
    build_commit: string,
    build_number: number,
    cpu_info: string,
    gpu_info: string,
    backends: string,
    model_filename: string,
    model_type: string,
    model_size: number,
    model_n_params: number,
    n_batch: number,
    n_ubatch: number,
    n_threads: number,
    cpu_mask: string,
    cpu_strict: boolean,
    poll: number,
    type_k: string,
    type_v: string,
    n_gpu_layers: number,
    n_cpu_moe: number,
    split_mode: string,
    main_gpu: number,
    no_kv_offload: boolean,
    flash_attn: number,
    devices: string,
    tensor_split: string,
    tensor_buft_overrides: string,
    load_mode: string,
    lazy_mode: string,
    embeddings: boolean,
    no_op_offload: number,
    no_host: boolean,
    fit_target: number,
    fit_min_ctx: number,
    n_prompt: number,
    n_gen: number,
    n_depth: number,
    /** Experts each token is routed to (llama.expert_used_count, or its --experts override). */
    n_expert_used: number,
    test_time: string,
    avg_ns: number,
    stddev_ns: number,
    avg_ts: number,
    stddev_ts: number,
    samples_ns: number[],
    samples_ts: number[],
    // Ours, after llama-bench's fields (its tools ignore unknown keys).
    quant: string,
    node_llama_cpp_version: string,
    /** Memory bandwidth used for the roofline, GB/s (tg rows only). */
    bandwidth_gbs: number | null,
    roofline_ts: number | null,
    roofline_pct: number | null,
    /** --mode e2e: mean time to first token through tokenize → evaluate → sample, ms. */
    e2e_ttft_ms: number | null,
    /** --mode e2e: mean generated tok/s through sample → detokenize. */
    e2e_ts: number | null,
    /** Samples of repetitions far slower than the others, replaced by a re-run of each (empty: none). */
    rerun_samples_ns: number[],
    /** The tok/s samples' standard deviation is above 25% of their mean (after any re-run): not a steady figure. */
    high_spread: boolean,
    /**
     * Cores other processes kept busy while the row ran (the CPU counters: the cores' busy time less
     * ours, hardware/cpuLoad.ts); null when not measured. Threads do not adapt here (bench measures).
     */
    busy_cores: number | null,
    /** --compare: avg_ts ÷ the matching row's avg_ts in the previous run. */
    compare_ratio?: number | null
};

/** A test that could not run: reported, counted, and the run goes on. */
export type BenchFailure = {instance: BenchInstance, message: string, hint?: string};

export type RunInstanceOptions = {
    repetitions: number,
    /** One untimed run first (llama-bench: the whole prompt, or one generated token). */
    warmup: boolean,
    /** Also time tokenize → generate → sample → detokenize as a user would feel it. */
    e2e: boolean,
    signal?: AbortSignal,
    /** Called before each step ("warm-up", "rep 2/5") for progress on stderr. */
    onStep?: (step: string) => void
};

/** One model loaded for benchmarking: contexts are made per instance (threads, size). */
export type BenchLoadedModel = {
    info: BenchModelInfo,
    run(instance: BenchInstance, options: RunInstanceOptions): Promise<InstanceTimings>,
    dispose(): Promise<void>
};

/** What the runner needs from the native engine; src/engine/benchmark.ts implements it. */
export type BenchEngine = {
    systemInfo(): Promise<BenchSystemInfo>,
    /** The names of the GPUs the backend sees (for the bandwidth table); empty on CPU. */
    gpuDeviceNames(): Promise<string[]>,
    /** Loads a file the runner has already validated (its header also sizes the roofline). */
    loadModel(file: ValidatedGguf, gpuLayers: number | "max", options: {signal?: AbortSignal, onProgress?: (fraction: number) => void}): Promise<BenchLoadedModel>,
    dispose(): Promise<void>
};
