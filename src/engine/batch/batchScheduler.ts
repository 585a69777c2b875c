import type {LlamaContext, LlamaContextSequence, Token} from "node-llama-cpp";
import {EngineError, UsageError} from "../../errors.js";
import type {GenerationResult, StopReason, TokenLogprob} from "../../generator/result.js";
import type {SamplingOptions} from "../../generator/sampling.js";
import {GenerationState} from "../generation/generationState.js";
import {promptTooLongError} from "../generation/promptSize.js";
import {canSampleNatively, contextInternalsOf, nativeContextOf, nativeSequenceIdOf, type NativeContext} from "../native/nativeContext.js";
import {DistributionProbe, NativeSampler} from "../native/nativeSampler.js";
import {ThreadPolicy} from "../native/threadPolicy.js";
import {workersMayOverlap} from "../native/logitsReads.js";

export type SchedulerRequest = {
    /** The whole prompt (BOS included): a sequence that already holds a prefix of it evaluates only the rest. */
    promptTokens: readonly Token[],
    sampling: SamplingOptions,
    /** Aborting ends the request within one token (stopReason "abort") and frees its sequence. */
    signal?: AbortSignal,
    /** Text as it is generated, whole characters only, stop strings held back. */
    onText?: (text: string) => void,
    /** Each generated token (EOS excluded). */
    onToken?: (token: Token) => void,
    /** Each generated token's logprobs, before its text, when the sampling asks for them. */
    onLogprob?: (entry: TokenLogprob) => void
};

export type SchedulerResult = GenerationResult & {
    /** Prompt tokens found in the sequence's KV cache and not evaluated again. */
    cachedPromptTokens: number,
    /** Time spent waiting in the queue before a sequence was free. */
    queuedMs: number
};

export type SchedulerStats = {
    parallel: number,
    /** Tokens one request may hold (prompt + answer). */
    contextSize: number,
    queueLimit: number,
    busySequences: number,
    queued: number,
    requests: number,
    promptTokens: number,
    cachedPromptTokens: number,
    generatedTokens: number,
    /** llama_decode calls, and the tokens they carried: their ratio shows how much batching happened. */
    decodeCalls: number,
    decodedTokens: number
};

export type BatchSchedulerOptions = {
    /** Requests waiting for a free sequence beyond this are refused with QueueFullError. */
    queueLimit: number
};

/** The queue is full: the server answers 503 with Retry-After. */
export class QueueFullError extends EngineError {}

/**
 * The scheduler was closed (the server is shutting down): refused at submit, or ended by close()
 * while it waited (`running` false) or ran (`running` true: part of the answer may have been sent).
 */
export class SchedulerClosedError extends EngineError {
    constructor(readonly running: boolean) {
        super(running ? "The model was closed before the answer was complete." : "The model is being closed.");
    }
}

type Slot = {
    /** llama.cpp's seq_id. */
    id: number,
    /** What the KV cache holds for this sequence, position by position. */
    tokens: Token[],
    job?: Job,
    lastUsed: number
};

/** A request's part of one decode: its next tokens, and whether the last one's logits are sampled. */
type BatchEntry = {slot: Slot, job: Job, tokens: Token[], logits: boolean};

type Job = {
    request: SchedulerRequest,
    /** Every per-token rule (stops, grammar, penalties' window, logprobs, timings) lives in it. */
    generation: GenerationState,
    resolve(result: SchedulerResult): void,
    reject(error: unknown): void,
    slot?: Slot,
    /** Tokens to decode next: the rest of the prompt, then each sampled token. */
    pending: Token[],
    sampler?: NativeSampler,
    /** Reads the model's distribution for logprobs, when the request asks for them. */
    probe?: DistributionProbe,
    cachedPromptTokens: number,
    onAbortWhileQueued?: () => void
};

/**
 * Continuous batching on one llama.cpp context with several sequences, like llama-server's slots:
 * up to `parallel` requests decode together, one native decode per step carrying the next token of
 * every generating sequence plus as much of waiting prompts as the batch holds (long prompts are
 * chunked by the batch size, and new requests join between steps). More requests wait in a bounded
 * FIFO queue. Each sequence keeps its tokens after a request: the next request goes to the free
 * sequence sharing the longest prefix with its prompt, and only the rest is evaluated (turn N+1 of
 * a chat evaluates only the new turn, as llama-server's cache_prompt does).
 *
 * It drives node-llama-cpp's native context directly, as direct/directTokenLoop.ts does for one
 * sequence (same internals of the exactly pinned 3.21.1, typed in native/). The library's
 * LlamaContextSequence objects are taken only to reserve the sequence ids; their own bookkeeping
 * is not used, so nothing else may evaluate on this context. It is a driver only: what a sampled
 * token means (a stop, the end of a grammar, the text) is each request's GenerationState's to say.
 */
export class BatchScheduler {
    private readonly native: NativeContext;
    private readonly slots: Slot[];
    private readonly queue: Job[] = [];
    /** The sequence whose library config resolution every request's sampler uses. */
    private readonly samplerSource: LlamaContextSequence;
    private readonly threads: ThreadPolicy;
    private readonly batchSize: number;
    /** The requests of the step in flight. */
    private readonly inStep = new Set<Job>();
    private loop: Promise<void> | undefined;
    private closed = false;
    private useCounter = 0;
    private lastStepOneTokenEach = false;
    private readonly counters = {requests: 0, promptTokens: 0, cachedPromptTokens: 0, generatedTokens: 0, decodeCalls: 0, decodedTokens: 0};

    constructor(private readonly context: LlamaContext, sequences: readonly LlamaContextSequence[], private readonly options: BatchSchedulerOptions) {
        const native = nativeContextOf(context);
        const internals = contextInternalsOf(context);
        const threads = ThreadPolicy.of(context);
        const first = sequences[0];
        const ids = sequences.map(nativeSequenceIdOf);
        if (native == null || internals == null || threads == null || first == null || !canSampleNatively(first) || ids.some((id) => id == null))
            throw new EngineError("This build of node-llama-cpp does not expose what batched serving needs.", {
                hint: "Reinstall mixtral's dependencies (node-llama-cpp 3.21.1 exactly)."
            });
        this.native = native;
        this.samplerSource = first;
        this.slots = ids.map((id) => ({id: id!, tokens: [], lastUsed: 0}));
        this.batchSize = internals.batchSize;
        this.threads = threads;
        threads.reset();
    }

    get parallel(): number {
        return this.slots.length;
    }

    /** Tokens one request may hold (prompt + answer): the per-sequence context. */
    get contextSize(): number {
        return this.context.contextSize;
    }

    /** Queued requests beyond the free sequences (the queue is given to them in order at the next step). */
    private get waiting(): number {
        return Math.max(0, this.queue.length - this.freeSlots);
    }

    private get freeSlots(): number {
        return this.slots.filter((slot) => slot.job == null).length;
    }

    get stats(): SchedulerStats {
        return {
            parallel: this.slots.length,
            contextSize: this.contextSize,
            queueLimit: this.options.queueLimit,
            busySequences: this.slots.filter((slot) => slot.job != null).length,
            queued: this.waiting,
            ...this.counters
        };
    }

    /**
     * Queues a request and resolves with its result once it ends (a stop condition, max tokens, a
     * full context, or an abort). Throws UsageError for a prompt that cannot fit a sequence,
     * QueueFullError when the queue is full, SchedulerClosedError after close().
     */
    submit(request: SchedulerRequest): Promise<SchedulerResult> {
        if (this.closed) return Promise.reject(new SchedulerClosedError(false));
        // A consumer's failure (a closed socket) must not stop the other sequences.
        const onText = request.onText == null ? undefined : (text: string) => {
            try {
                request.onText?.(text);
            } catch {
                // The request goes on; its client is gone or will see the end.
            }
        };
        const generationRequest = {promptTokens: request.promptTokens, sampling: request.sampling, contextSize: this.contextSize};
        const callbacks = {onText, onToken: request.onToken, onLogprob: request.onLogprob, signal: request.signal};
        // Without a grammar the request queues now: the submits of one tick start in one step.
        if (request.sampling.grammar == null)
            return this.enqueue(request, GenerationState.withoutGrammar(this.context.model, generationRequest, callbacks));
        // The grammar is parsed (once per text) and given a fresh state before the request queues.
        return GenerationState.open(this.context.model, generationRequest, callbacks).then((generation) => this.enqueue(request, generation));
    }

    private enqueue(request: SchedulerRequest, generation: GenerationState): Promise<SchedulerResult> {
        if (this.closed) return Promise.reject(new SchedulerClosedError(false));
        const promptLength = request.promptTokens.length;
        if (promptLength === 0) return Promise.reject(new UsageError("The prompt is empty."));
        if (promptLength + 1 >= this.contextSize)
            return Promise.reject(promptTooLongError(promptLength, this.contextSize));
        // Queued requests that a free sequence will take at the next step are not waiting for one:
        // this one would wait when the queue ahead of it takes every free sequence.
        const waiting = this.waiting;
        if (this.queue.length >= this.freeSlots + this.options.queueLimit)
            return Promise.reject(new QueueFullError(`All ${this.slots.length} sequences are in use and ${waiting} ${waiting === 1 ? "request is" : "requests are"} waiting for one (the queue holds ${this.options.queueLimit}).`));

        return new Promise<SchedulerResult>((resolve, reject) => {
            const job: Job = {request, generation, resolve, reject, pending: [], cachedPromptTokens: 0};
            this.counters.requests++;
            const endsAtOnce = generation.endsBeforeStart;
            if (endsAtOnce != null) {
                this.finish(job, endsAtOnce);
                return;
            }
            // A request cancelled while it waits leaves the queue at once (the queue length is a metric).
            const signal = request.signal;
            if (signal != null) {
                job.onAbortWhileQueued = () => {
                    const index = this.queue.indexOf(job);
                    if (index < 0) return;
                    this.queue.splice(index, 1);
                    this.finish(job, "abort");
                };
                signal.addEventListener("abort", job.onAbortWhileQueued, {once: true});
            }
            this.queue.push(job);
            this.kick();
        });
    }

    /**
     * Stops accepting requests and ends running and queued ones at once, rejecting them with
     * SchedulerClosedError (their promises settle now, even while a long decode is still running):
     * an answer cut here is not complete, and must not pass for one that ended on its own. Then it
     * waits for that decode: only then may the context be disposed.
     */
    async close(): Promise<void> {
        this.closed = true;
        for (const job of this.queue.splice(0)) this.endClosed(job, false);
        for (const slot of this.slots) if (slot.job != null) this.endClosed(slot.job, true);
        await this.loop;
    }

    private endClosed(job: Job, running: boolean) {
        this.release(job);
        job.reject(new SchedulerClosedError(running));
    }

    private kick() {
        this.loop ??= this.run().finally(() => {
            this.loop = undefined;
            // A request may have arrived after the loop last looked at the queue.
            if (this.queue.length > 0 && !this.closed) this.kick();
        });
    }

    private async run(): Promise<void> {
        // Let the submitter's synchronous code (other submits of the same tick) finish first.
        await Promise.resolve();
        while (true) {
            for (const slot of this.slots)
                if (slot.job?.request.signal?.aborted === true) this.finish(slot.job, "abort");
            if (!this.closed) this.admit();
            const active = this.slots.filter((slot): slot is Slot & {job: Job} => slot.job != null);
            if (active.length === 0) return;
            try {
                await this.step(active);
            } catch (error) {
                // A failed decode leaves the sequences' caches unknown: fail their requests and start them empty.
                for (const slot of active) {
                    if (slot.job == null) continue;
                    const job = slot.job;
                    this.release(job);
                    job.reject(new EngineError("llama.cpp failed to decode a batch.", {cause: error}));
                    this.forget(slot);
                }
            }
        }
    }

    /** Gives free sequences to queued requests, first come first served. */
    private admit() {
        while (this.queue.length > 0) {
            const free = this.slots.filter((slot) => slot.job == null);
            if (free.length === 0) return;
            const job = this.queue.shift()!;
            const prompt = job.request.promptTokens;
            // The free sequence holding the longest prefix of this prompt; among equals the least recently used.
            let best = free[0]!;
            let bestPrefix = -1;
            for (const slot of free) {
                const prefix = commonPrefixLength(slot.tokens, prompt);
                if (prefix > bestPrefix || (prefix === bestPrefix && slot.lastUsed < best.lastUsed)) {
                    best = slot;
                    bestPrefix = prefix;
                }
            }
            // At least one prompt token is evaluated: its logits give the first generated token.
            const keep = this.truncate(best, Math.min(bestPrefix, prompt.length - 1));
            this.start(job, best, keep);
        }
    }

    /** Erases a sequence's KV cache after `keep` tokens; returns how many it still holds. */
    private truncate(slot: Slot, keep: number): number {
        if (keep < slot.tokens.length) {
            if (!this.native.removeTokenCellsFromSequence(slot.id, keep, -1)) {
                this.forget(slot);
                return 0;
            }
            slot.tokens.length = keep;
        }
        return keep;
    }

    private forget(slot: Slot) {
        try {
            this.native.disposeSequence(slot.id);
        } catch {
            // Nothing more can be done; the cells are overwritten from position 0 anyway.
        }
        slot.tokens = [];
    }

    private start(job: Job, slot: Slot, cached: number) {
        if (job.onAbortWhileQueued != null) job.request.signal?.removeEventListener("abort", job.onAbortWhileQueued);
        const prompt = job.request.promptTokens;
        slot.job = job;
        slot.lastUsed = ++this.useCounter;
        job.slot = slot;
        job.generation.markStarted();
        job.pending = prompt.slice(cached);
        job.cachedPromptTokens = cached;
        this.counters.promptTokens += prompt.length;
        this.counters.cachedPromptTokens += cached;
        const {settings, penalized} = job.generation.samplerSettings();
        job.sampler = NativeSampler.open(this.samplerSource, settings, penalized);
        if (job.generation.wantsDistribution) job.probe = DistributionProbe.open(this.samplerSource);
    }

    /** One native decode: a token of every generating sequence, then prompt chunks as far as the batch holds. */
    private async step(active: (Slot & {job: Job})[]) {
        const batchSize = this.batchSize;
        // Generating sequences first (one token each), so a long prompt never stalls the streams.
        // A running request that has generated a token is generating (its end token would have finished it).
        const generating = (slot: Slot & {job: Job}) => Number(slot.job.generation.generated.length > 0);
        const ordered = [...active].sort((a, b) => generating(b) - generating(a) || a.lastUsed - b.lastUsed);
        const entries: BatchEntry[] = [];
        let room = batchSize;
        for (const slot of ordered) {
            if (room === 0) break;
            const take = Math.min(room, slot.job.pending.length);
            if (take === 0) continue;
            entries.push({slot, job: slot.job, tokens: slot.job.pending.slice(0, take), logits: take === slot.job.pending.length});
            room -= take;
        }
        if (entries.length === 0) return;
        // In sequence-id order: each sequence has its own KV stream, and llama.cpp puts into one ubatch
        // (one graph computation) only sequences whose ids follow each other in batch order; streams in
        // start order (1, 0, 2, 3 after a long prompt) were split in two computations, ~25% slower.
        entries.sort((a, b) => a.slot.id - b.slot.id);
        for (const {job} of entries) this.inStep.add(job);
        try {
            await this.decodeAndSample(entries, batchSize - room);
        } finally {
            for (const {job} of entries) {
                this.inStep.delete(job);
                // Ended by close() meanwhile: its sampler is free to go now.
                if (job.slot == null) this.disposeSamplers(job);
            }
        }
    }

    private async decodeAndSample(entries: BatchEntry[], total: number) {
        const oneTokenEach = entries.every((entry) => entry.tokens.length === 1);
        const chooser = oneTokenEach ? this.threads.tokenThreads(entries.length) : undefined;
        // The first one-token decode after a prompt's is not timed (see native/tokenThreadChooser.ts).
        if (oneTokenEach && !this.lastStepOneTokenEach) chooser?.startLoop();
        this.lastStepOneTokenEach = oneTokenEach;
        const threads = chooser?.next() ?? this.threads.promptThreads();
        this.threads.use(threads);

        this.native.initBatch(total);
        const logitIndexes = entries.map(({slot, tokens, logits}) =>
            this.native.addToBatch(slot.id, slot.tokens.length, Uint32Array.from(tokens), logits ? Uint32Array.of(tokens.length - 1) : new Uint32Array(0))[0]);
        const started = performance.now();
        await this.native.decodeBatch();
        chooser?.record(threads, performance.now() - started);
        this.counters.decodeCalls++;
        this.counters.decodedTokens += total;

        // The cache holds these tokens now, whether or not their request is still running (close()
        // may have ended it during the decode); the next request of the sequence can reuse them.
        for (const {slot, job, tokens} of entries) {
            for (const token of tokens) slot.tokens.push(token);
            if (slot.job === job) job.pending = job.pending.slice(tokens.length);
        }
        // Every sequence's sampling is asked for at once (each has its own sampler; node-llama-cpp's own
        // batching does the same): the native calls run back to back and their answers come back to
        // this thread together, instead of one cross-thread round trip each (~0.2–0.5 ms on a VM).
        // A request that wants logprobs reads its distribution first (the same logits, not beside its sampling).
        const wanted = entries.flatMap((entry, index) => entry.logits && entry.slot.job === entry.job && entry.job.sampler != null ? [{...entry, logitIndex: logitIndexes[index]!}] : []);
        const sample = ({slot, job, logitIndex}: typeof wanted[number]) => {
            const sampler = job.sampler!;
            const distribution = job.probe?.read(this.native, logitIndex);
            const token = distribution == null
                ? sampler.sample(this.native, logitIndex)
                : distribution.then(() => sampler.sample(this.native, logitIndex));
            return Promise.all([token, distribution]).then(([token, distribution]) => ({slot, job, token, distribution}));
        };
        // With more than one libuv worker the first read runs alone: llama.cpp puts reordered output
        // rows back on the first logits read, and two reads racing into it read rows mid-swap
        // (native/logitsReads.ts). mixtral's own serve runs one worker, where the calls queue anyway.
        const first = wanted.length > 1 && workersMayOverlap() ? [await sample(wanted[0]!)] : [];
        const sampled = [...first, ...await Promise.all(wanted.slice(first.length).map(sample))];
        for (const {slot, job, token, distribution} of sampled) {
            if (token === -1) throw new Error("Failed to sample the next token.");
            // Ended meanwhile (close(), a disconnect): its token is not wanted.
            if (slot.job === job) this.accept(job, token as Token, distribution);
        }
    }

    /** A sampled token: the request's generation says whether it ends here; else the token is decoded next. */
    private accept(job: Job, token: Token, distribution: readonly number[] | undefined) {
        const generated = job.generation.generated.length;
        const stopReason = job.generation.accept(token, job.slot!.tokens.length, distribution);
        this.counters.generatedTokens += job.generation.generated.length - generated;
        if (stopReason != null) return this.finish(job, stopReason);
        job.pending = [token];
    }

    /** Frees the job's sequence (its tokens stay cached) and sampler. */
    private release(job: Job) {
        if (job.slot != null) {
            job.slot.job = undefined;
            job.slot = undefined;
        }
        // close() may end a request while its decode or sampling runs natively: the step frees its sampler after.
        if (!this.inStep.has(job)) this.disposeSamplers(job);
        if (job.onAbortWhileQueued != null) job.request.signal?.removeEventListener("abort", job.onAbortWhileQueued);
    }

    private disposeSamplers(job: Job) {
        job.sampler?.dispose();
        job.sampler = undefined;
        job.probe?.dispose();
        job.probe = undefined;
    }

    private finish(job: Job, stopReason: StopReason) {
        this.release(job);
        job.resolve({...job.generation.finish(stopReason), cachedPromptTokens: job.cachedPromptTokens, queuedMs: job.generation.queuedMs});
    }
}

function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
    const length = Math.min(a.length, b.length);
    let index = 0;
    while (index < length && a[index] === b[index]) index++;
    return index;
}
