import type {LlamaContext} from "node-llama-cpp";
import {countersAtStart, CpuLoad} from "../../hardware/cpuLoad.js";
import {contextInternalsOf, nativeContextOf} from "./nativeContext.js";
import {threadsThatFit, TokenThreadChooser, type ThreadSwitch} from "./tokenThreadChooser.js";

/** A switch of the thread count, and the decodes it is for: `width` sequences of one token each. */
export type ThreadSwitchEvent = ThreadSwitch & {width: number};

/** What a driver asks before and tells after each decode of one token per sequence. */
export type TokenThreads = {
    /** A new generation loop (after a prompt batch): its first decode is not timed. */
    startLoop(): void,
    next(): number,
    record(threads: number, ms: number): void
};

/**
 * The one thread policy of a context, for every driver (direct/ and batch/): prompt batches decode
 * at the context's thread count, or fewer when other processes hold cores; decodes of one token per sequence ask a TokenThreadChooser (see
 * tokenThreadChooser.ts), one per batch width (1 token alone, 4 streams together…: their times
 * differ), kept with the context so later loops (chat's next turn, the server's next request) start
 * from what it learned. The policy feeds the choosers the cores the CPU counters say are free
 * (hardware/cpuLoad.ts) every CpuLoad.minWindowMs at most. A thread count the user chose (--threads)
 * is used for every decode.
 */
export class ThreadPolicy {
    private readonly choosers = new Map<number, TokenThreadChooser>();
    /** One handle a width: the batch scheduler asks for it every step. */
    private readonly handles = new Map<number, TokenThreads>();
    private current: number;
    private fixed = false;
    private available: number | undefined;
    /** Told of every change of a chooser's count (--verbose). */
    onSwitch: ((change: ThreadSwitchEvent) => void) | undefined;

    /** Public for tests; drivers take a context's policy with `of`. */
    constructor(
        private readonly native: {setThreads(threads: number): void},
        /** The context's thread count (node-llama-cpp's idealThreads). */
        readonly batchThreads: number,
        private readonly load: {sample(nowMs: number): number | undefined} = new CpuLoad(undefined, countersAtStart),
        private readonly now: () => number = () => performance.now()
    ) {
        this.current = batchThreads;
    }

    /** The context's policy (created on first use); undefined when the pinned internals are missing. */
    static of(context: LlamaContext): ThreadPolicy | undefined {
        const native = nativeContextOf(context);
        const internals = contextInternalsOf(context);
        if (native == null || internals == null) return undefined;
        let policy = policies.get(native);
        if (policy == null) policies.set(native, policy = new ThreadPolicy(native, internals.idealThreads));
        return policy;
    }

    /** --threads: the user's count for every decode; no timing, no adapting. */
    keepUserThreads() {
        this.fixed = true;
    }

    /** The thread counts for decodes of `width` sequences one token each; undefined when the count is fixed. */
    tokenThreads(width: number): TokenThreads | undefined {
        if (this.fixed || this.batchThreads <= 1) return undefined;
        const known = this.handles.get(width);
        if (known != null) return known;
        const chooser = TokenThreadChooser.adaptive(this.batchThreads);
        chooser.onSwitch = (change) => this.onSwitch?.({...change, width});
        if (this.available != null) chooser.observeLoad(this.available);
        this.choosers.set(width, chooser);
        const handle: TokenThreads = {
            startLoop: () => {
                this.sampleLoad();
                chooser.startLoop();
            },
            next: () => chooser.next(),
            record: (threads, ms) => {
                chooser.record(threads, ms);
                this.sampleLoad();
            }
        };
        this.handles.set(width, handle);
        return handle;
    }

    /**
     * The count for a prompt batch: batchThreads, unless the CPU counters say other processes hold
     * cores (then as many as are free, as for generated tokens: spinning threads that wait for a core
     * collapse a batch too). The user's --threads always.
     */
    promptThreads(): number {
        if (this.fixed) return this.batchThreads;
        this.sampleLoad();
        return threadsThatFit(this.batchThreads, this.available);
    }

    /** Sets the native thread count before a decode (a no-op when it is already that). */
    use(threads: number) {
        if (threads !== this.current) this.native.setThreads(this.current = threads);
    }

    /**
     * Before a driver starts: node-llama-cpp's thread splitter may have lowered the native count for
     * another context; our count is set again (and the library's own evaluate path finds it after).
     */
    reset() {
        this.native.setThreads(this.current = this.batchThreads);
    }

    private sampleLoad() {
        const available = this.load.sample(this.now());
        if (available == null) return;
        this.available = available;
        for (const chooser of this.choosers.values()) chooser.observeLoad(available);
    }
}

const policies = new WeakMap<object, ThreadPolicy>();
