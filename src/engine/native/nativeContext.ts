import type {Llama, LlamaContext, LlamaContextSequence, LlamaGrammarEvaluationState, Token} from "node-llama-cpp";

/**
 * node-llama-cpp 3.21.1's private internals, typed once. Our hot loops (the direct token loop, the
 * batch scheduler, the benchmark) call the native (N-API) context directly: see direct/directTokenLoop.ts
 * for why. They are internals of the exactly pinned version, so every access goes through a shape
 * check here, and callers fall back to the public API (or refuse) when it returns undefined. A
 * binding upgrade touches this folder.
 */
export type AddonSampler = {applyConfig(config: object): void, dispose(): void};

export type NativeContext = {
    initBatch(size: number): void,
    addToBatch(sequenceId: number, firstTokenIndex: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array | Int32Array | number[],
    decodeBatch(): Promise<void>,
    sampleToken(batchLogitIndex: number, sampler: AddonSampler): Promise<number>,
    /** With `probabilities`: also the candidates left after the sampler's chain, as [token, p, token, p, …] by falling p. */
    sampleToken(batchLogitIndex: number, sampler: AddonSampler, probabilities: true): Promise<[token: number, probabilities: number[] | undefined, confidence: number | undefined]>,
    /** With `confidence` only: the chosen token's probability over the candidates left after the chain, without building the array. */
    sampleToken(batchLogitIndex: number, sampler: AddonSampler, probabilities: false, confidence: true): Promise<[token: number, probabilities: undefined, confidence: number | undefined]>,
    disposeSequence(sequenceId: number): void,
    /** Erases the KV cells of positions [start, end) of a sequence (end -1: to the end); false when it cannot. */
    removeTokenCellsFromSequence(sequenceId: number, start: number, end: number): boolean,
    setThreads(threads: number): void
};

/** LlamaContext's private fields the drivers read. */
export type ContextInternals = LlamaContext & {batchSize: number, idealThreads: number, _disposed: boolean};

/** LlamaContextSequence's private fields: its bookkeeping, which the direct loop keeps as the library does. */
export type SequenceInternals = {
    _nextTokenIndex: number,
    _contextTokens: Token[],
    _loadedTokenPredictions: unknown[],
    _tokenPredictor?: unknown,
    _disposed: boolean,
    needsCheckpoints: boolean,
    tokenMeter: {useTokens(tokens: number, type: "input" | "output"): void},
    /** The library's own resolution of sampler settings (its defaults, a clock seed when none). */
    _resolveSamplerConfig(options: object): object,
    _context: ContextInternals,
    model: {_model: unknown, size?: number, _llama: {_bindings: {AddonSampler: new (model: unknown) => AddonSampler}}}
};

const methods = ["initBatch", "addToBatch", "decodeBatch", "sampleToken", "disposeSequence", "removeTokenCellsFromSequence", "setThreads"] as const;

export function nativeContextOf(context: LlamaContext): NativeContext | undefined {
    const native = (context as unknown as {_ctx?: Partial<NativeContext>})._ctx;
    if (native == null || methods.some((name) => typeof native[name] !== "function")) return undefined;
    return native as NativeContext;
}

/** The sequence's id in the native context (llama.cpp's seq_id). */
export function nativeSequenceIdOf(sequence: LlamaContextSequence): number | undefined {
    const id = (sequence as unknown as {_sequenceId?: unknown})._sequenceId;
    return typeof id === "number" ? id : undefined;
}

/** The context's batch size and thread count, when the pinned library exposes them as expected. */
export function contextInternalsOf(context: LlamaContext): ContextInternals | undefined {
    const internals = context as Partial<ContextInternals>;
    return typeof internals.batchSize === "number" && typeof internals.idealThreads === "number" ? context as ContextInternals : undefined;
}

/** What a sampler needs of a sequence: the library's config resolution and the native sampler class. */
export function canSampleNatively(sequence: LlamaContextSequence): boolean {
    const internals = sequence as unknown as Partial<SequenceInternals>;
    return typeof internals._resolveSamplerConfig === "function" && typeof internals.model?._llama?._bindings?.AddonSampler === "function";
}

/** The sequence's bookkeeping, when it has the shape the direct loop keeps up to date. */
export function sequenceInternalsOf(sequence: LlamaContextSequence): SequenceInternals | undefined {
    const internals = sequence as unknown as SequenceInternals;
    const context = internals._context == null ? undefined : contextInternalsOf(internals._context);
    const shaped = context != null && canSampleNatively(sequence)
        && typeof internals._nextTokenIndex === "number"
        && Array.isArray(internals._contextTokens)
        && Array.isArray(internals._loadedTokenPredictions)
        && typeof internals.tokenMeter?.useTokens === "function";
    return shaped ? internals : undefined;
}

type GrammarBindings = {AddonSampler: {canBeNextTokenForGrammarEvaluationState?: (state: unknown, token: number) => boolean}};

/**
 * Asks llama.cpp whether `token` may come next in a grammar's evaluation state (e.g. the end token:
 * the output is complete). Undefined when the pinned library does not expose it; completeness is
 * then only known when the model ends.
 */
export function grammarAcceptsNext(llama: Llama, state: LlamaGrammarEvaluationState): ((token: number) => boolean) | undefined {
    const sampler = (llama as unknown as {_bindings?: GrammarBindings})._bindings?.AddonSampler;
    const native = (state as unknown as {_state?: unknown})._state;
    const check = sampler?.canBeNextTokenForGrammarEvaluationState;
    if (typeof check !== "function" || native == null) return undefined;
    return (token) => check.call(sampler, native, token);
}
