import type {LlamaContext, LlamaContextSequence, LlamaGrammarEvaluationState, Token} from "node-llama-cpp";
import {nativeContextOf, nativeSequenceIdOf, type AddonSampler} from "./nativeContext.js";

/**
 * Decode-then-sample on node-llama-cpp's native context directly, one step per token.
 *
 * Why: `sequence.evaluate()` is built for many sequences sharing a context. Per token it goes through
 * an async generator, two locks, a batching queue, a thread-splitter reservation, a fresh sampler
 * config (about 20 properties read through N-API) and a token meter, and allocates enough to keep
 * the garbage collector busy. Profiled on a 2-core machine that was ~0.5 ms of main-thread work per
 * token, serial with the model (the ggml threads wait for it), against ~0.1 ms for this loop. What is
 * left per token is the two native calls the binding makes asynchronous (decode, sample).
 *
 * It relies on internals of node-llama-cpp 3.21.1 (pinned exactly in package.json). `open` checks
 * their shape and returns undefined when anything differs or a feature needs the library's own
 * path (token predictors, checkpoints of recurrent/SWA models); callers then use `sequence.evaluate`.
 * The sequence's bookkeeping (nextTokenIndex, contextTokens, token meter) is kept as the library
 * keeps it, so later calls — chat's next turn, eraseContextTokenRanges — see a consistent sequence.
 */
export type DirectTokenLoop = {
    /**
     * Decodes `tokens` after the sequence's contents and samples the next token (undefined: none).
     * A long prompt is decoded in batches; an aborted signal stops between them (undefined too).
     */
    step(tokens: readonly Token[], signal?: AbortSignal): Promise<Token | undefined>,
    dispose(): void
};

type SequenceInternals = {
    _nextTokenIndex: number,
    _contextTokens: Token[],
    _loadedTokenPredictions: unknown[],
    _tokenPredictor?: unknown,
    _disposed: boolean,
    needsCheckpoints: boolean,
    tokenMeter: {useTokens(tokens: number, type: "input" | "output"): void},
    _resolveSamplerConfig(options: object): object,
    _context: LlamaContext & {batchSize: number, idealThreads: number, _disposed: boolean},
    model: {_model: unknown, _llama: {_bindings: {AddonSampler: new (model: unknown) => AddonSampler}}}
};

export type SamplerSettings = {
    temperature: number, topK: number, topP: number, minP: number, seed?: number,
    repeatPenalty?: {penalty: number, maxPunishTokens: number, punishTokens(): Token[]},
    /** The native sampler masks tokens the grammar rejects and accepts each sampled token into this state. */
    grammarEvaluationState?: LlamaGrammarEvaluationState
};

export function openDirectTokenLoop(sequence: LlamaContextSequence, sampler: SamplerSettings): DirectTokenLoop | undefined {
    const internals = sequence as unknown as SequenceInternals;
    const native = internals._context == null ? undefined : nativeContextOf(internals._context);
    const sequenceId = nativeSequenceIdOf(sequence);
    if (native == null || sequenceId == null || !hasExpectedShape(internals) || internals.needsCheckpoints
        || internals._tokenPredictor != null || internals._loadedTokenPredictions.length > 0)
        return undefined;

    const context = internals._context;
    const samplerHandle = new internals.model._llama._bindings.AddonSampler(internals.model._model);
    // The library's own resolution (defaults, seed from the clock when none): same sampling as evaluate().
    const resolveConfig = () => internals._resolveSamplerConfig(sampler);
    samplerHandle.applyConfig(resolveConfig());
    // The thread splitter may have lowered the native thread count for another context; restore ours.
    const batchThreads = context.idealThreads;
    native.setThreads(batchThreads);
    let currentThreads = batchThreads;
    const useThreads = (threads: number) => {
        if (threads !== currentThreads) native.setThreads(currentThreads = threads);
    };
    const tokenThreads = batchThreads > 1 ? new TokenThreadChooser(batchThreads, tokenThreadChoices.get(native)) : undefined;

    const single = new Uint32Array(1);
    const none = new Uint32Array(0);
    let disposed = false;

    return {
        async step(tokens, signal) {
            if (disposed || internals._disposed || context._disposed) throw new Error("The context sequence was disposed during generation.");
            let batchLogitIndex = -1;
            for (let start = 0; start < tokens.length; start += context.batchSize) {
                // Ctrl+C during a long prompt (a loaded chat, a big file) must not wait for all of it.
                if (signal?.aborted) return undefined;
                const chunk = tokens.slice(start, start + context.batchSize);
                const last = start + chunk.length >= tokens.length;
                const input = chunk.length === 1 ? (single[0] = chunk[0]!, single) : Uint32Array.from(chunk);
                const threads = chunk.length === 1 && tokenThreads != null ? tokenThreads.next() : batchThreads;
                useThreads(threads);
                native.initBatch(chunk.length);
                const logitIndexes = native.addToBatch(sequenceId, internals._nextTokenIndex, input,
                    last ? Uint32Array.of(chunk.length - 1) : none);
                const started = performance.now();
                await native.decodeBatch();
                if (chunk.length === 1 && tokenThreads != null) {
                    tokenThreads.record(threads, performance.now() - started);
                    if (tokenThreads.choice != null) tokenThreadChoices.set(native, tokenThreads.choice);
                }
                internals._nextTokenIndex += chunk.length;
                // push, not concat: the public getter hands out copies, and concat is O(context) a token.
                for (const token of chunk) internals._contextTokens.push(token);
                internals.tokenMeter.useTokens(last ? chunk.length - 1 : chunk.length, "input");
                if (last) {
                    internals.tokenMeter.useTokens(1, "output");
                    batchLogitIndex = logitIndexes[0] ?? -1;
                }
            }
            if (batchLogitIndex < 0) return undefined;
            // The penalty window moves with every token; plain sampling keeps its first config.
            if (sampler.repeatPenalty != null) samplerHandle.applyConfig(resolveConfig());
            const token = await native.sampleToken(batchLogitIndex, samplerHandle);
            if (token === -1) throw new Error("Failed to sample the next token.");
            return token == null ? undefined : token as Token;
        },
        dispose() {
            if (disposed) return;
            disposed = true;
            samplerHandle.dispose();
            // Leave the context as the library expects it (its own evaluate path does not set threads).
            if (!context._disposed) useThreads(batchThreads);
        }
    };
}

/**
 * Picks the thread count for one-token decodes (generation) by timing them: `batchThreads` or 1.
 *
 * Why: node-llama-cpp 3.21.1 never attaches a ggml threadpool to its context, and its prebuilt CPU
 * library has no OpenMP, so every graph compute with n threads creates n-1 new threads and joins
 * them at the end (strace: one clone3 per token; llama-bench: one per run). The threads wait for
 * each other at a spinning barrier after every graph node. When the kernel places the new thread on
 * the creating thread's CPU (perf sched, 2-vCPU KVM box, kernel 6.18, HZ=250: ~65% of the tokens of
 * the 0.5M-parameter test model, the other CPU idle), both spin in turn through 4 ms timeslices:
 * ~12 ms a token instead of ~0.2 ms, 70–1500 tok/s at 2 threads against ~15,000 at 1. With ~2 ms
 * tokens (a 212M-parameter model) the new thread always went to the idle CPU and 2 threads beat 1
 * (~470 vs ~350 tok/s). Which count wins depends on the model and the machine, so the first
 * one-token decodes are timed with each: 1 thread first (also for the untimed warm-up), and 1 wins
 * as soon as one batchThreads sample is >25% slower than every 1-thread sample; batchThreads wins
 * only when all three of its samples beat all three of 1 (a wrong 1 costs a big model up to ~2x for
 * the rest of the loop, a wrong batchThreads costs a small one 10–100x). The choice is kept for
 * later loops on the same context (chat turns). Prompt batches always use batchThreads.
 * Measured (`complete -t 2`, medians of 5–7): test model -n 64: 109 → 2140 tok/s (-t 1: ~7,000; the
 * gap is the one 2-thread probe token), -n 256: 124 → 3016 (-t 1: 3246); 212M model -n 64:
 * ~390 → ~440 (noise; 2 threads chosen).
 * The real fix is native: attach a persistent ggml threadpool (llama_attach_threadpool).
 */
export class TokenThreadChooser {
    private static readonly samplesEach = 3;
    private static readonly clearMargin = 1.25;
    private readonly many: number[] = [];
    private readonly one: number[] = [];
    private decided: number | undefined;
    private decodes = 0;

    constructor(private readonly batchThreads: number, decided?: number) {
        if (decided === 1 || decided === batchThreads) this.decided = decided;
    }

    next(): number {
        if (this.decided != null) return this.decided;
        // Decode 0 (warm-up, untimed) and the odd ones use 1 thread, the even ones batchThreads.
        return this.decodes === 0 || this.decodes % 2 === 1 ? 1 : this.batchThreads;
    }

    record(threads: number, ms: number) {
        if (this.decided != null || this.decodes++ === 0) return;
        (threads === 1 ? this.one : this.many).push(ms);
        const {many, one} = this;
        if (many.length === 0 || one.length === 0) return;
        if (Math.min(...many) > TokenThreadChooser.clearMargin * Math.max(...one)) this.decided = 1;
        else if (many.length >= TokenThreadChooser.samplesEach && one.length >= TokenThreadChooser.samplesEach)
            this.decided = Math.max(...many) < Math.min(...one) ? this.batchThreads : 1;
    }

    /** The decision, once made. */
    get choice(): number | undefined {
        return this.decided;
    }
}

/** TokenThreadChooser's decision per native context, so that later loops do not probe again. */
const tokenThreadChoices = new WeakMap<object, number>();

/**
 * For a thread count the user chose (--threads): generation keeps it for every token instead of
 * measuring whether 1 thread decodes faster.
 */
export function keepTokenThreads(context: LlamaContext) {
    const native = nativeContextOf(context);
    if (native != null) tokenThreadChoices.set(native, context.idealThreads);
}

function hasExpectedShape(internals: SequenceInternals): boolean {
    const context = internals._context as Partial<SequenceInternals["_context"]>;
    return typeof internals._nextTokenIndex === "number"
        && Array.isArray(internals._contextTokens)
        && Array.isArray(internals._loadedTokenPredictions)
        && typeof internals._resolveSamplerConfig === "function"
        && typeof internals.tokenMeter?.useTokens === "function"
        && typeof context.batchSize === "number"
        && typeof context.idealThreads === "number"
        && typeof internals.model?._llama?._bindings?.AddonSampler === "function";
}
