import type {LlamaContextSequence, Token} from "node-llama-cpp";
import type {GenerationState} from "../generation/generationState.js";
import {nativeContextOf, nativeSequenceIdOf, sequenceInternalsOf} from "../native/nativeContext.js";
import {DistributionProbe, NativeSampler} from "../native/nativeSampler.js";
import {ThreadPolicy} from "../native/threadPolicy.js";

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
 * It relies on internals of node-llama-cpp 3.21.1 (pinned exactly in package.json, typed in
 * native/nativeContext.ts). `open` returns undefined when anything differs or a feature needs the
 * library's own path (token predictors, checkpoints of recurrent/SWA models); callers then use
 * `sequence.evaluate`. The sequence's bookkeeping (nextTokenIndex, contextTokens, token meter) is
 * kept as the library keeps it, so later calls — chat's next turn, eraseContextTokenRanges — see a
 * consistent sequence.
 */
export type DirectTokenLoop = {
    /**
     * Decodes `tokens` after the sequence's contents and samples the next token (undefined: none), with
     * the model's distribution at that place when the generation wants logprobs. A long prompt is
     * decoded in batches; an aborted signal stops between them (undefined too).
     */
    step(tokens: readonly Token[], signal?: AbortSignal): Promise<{token: Token, distribution?: readonly number[]} | undefined>,
    dispose(): void
};

export function openDirectTokenLoop(sequence: LlamaContextSequence, generation: GenerationState): DirectTokenLoop | undefined {
    const internals = sequenceInternalsOf(sequence);
    const native = internals == null ? undefined : nativeContextOf(internals._context);
    const sequenceId = nativeSequenceIdOf(sequence);
    const threads = internals == null ? undefined : ThreadPolicy.of(internals._context);
    if (internals == null || native == null || sequenceId == null || threads == null || internals.needsCheckpoints
        || internals._tokenPredictor != null || internals._loadedTokenPredictions.length > 0)
        return undefined;

    const context = internals._context;
    const {settings, penalized} = generation.samplerSettings();
    const sampler = NativeSampler.open(sequence, settings, penalized);
    const probe = generation.wantsDistribution ? DistributionProbe.open(sequence) : undefined;
    threads.reset();
    const tokenThreads = threads.tokenThreads(1);
    // The first decode of a loop follows the prompt's batch: it is not timed (see tokenThreadChooser.ts).
    tokenThreads?.startLoop();

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
                const count = chunk.length === 1 && tokenThreads != null ? tokenThreads.next() : threads.promptThreads();
                threads.use(count);
                native.initBatch(chunk.length);
                const logitIndexes = native.addToBatch(sequenceId, internals._nextTokenIndex, input,
                    last ? Uint32Array.of(chunk.length - 1) : none);
                const started = performance.now();
                await native.decodeBatch();
                if (chunk.length === 1) tokenThreads?.record(count, performance.now() - started);
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
            // Read before sampling, not beside it: both read the same logits on the binding's worker threads.
            const distribution = probe == null ? undefined : await probe.read(native, batchLogitIndex);
            const token = await sampler.sample(native, batchLogitIndex);
            if (token === -1) throw new Error("Failed to sample the next token.");
            if (token == null) return undefined;
            return {token: token as Token, distribution};
        },
        dispose() {
            if (disposed) return;
            disposed = true;
            sampler.dispose();
            probe?.dispose();
            // Leave the context as the library expects it (its own evaluate path does not set threads).
            if (!context._disposed) threads.use(threads.batchThreads);
        }
    };
}
