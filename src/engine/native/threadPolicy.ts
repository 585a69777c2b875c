import type {LlamaContext} from "node-llama-cpp";
import {contextInternalsOf, nativeContextOf} from "./nativeContext.js";
import {TokenThreadChooser} from "./tokenThreadChooser.js";

/**
 * The one thread policy of a context, for every driver: prompt batches decode at the context's
 * thread count; decodes of one token per sequence ask a TokenThreadChooser (see tokenThreadChooser.ts)
 * whether 1 thread is faster, one chooser per batch width (1 token alone, 4 streams together…), kept
 * with the context so later loops (chat's next turn, the server's next request) keep its decision.
 * A thread count the user chose (--threads) is used for every decode.
 */
export class ThreadPolicy {
    private readonly choosers = new Map<number, TokenThreadChooser>();
    private current: number;
    private fixed = false;

    private constructor(
        private readonly native: {setThreads(threads: number): void},
        /** The context's thread count (node-llama-cpp's idealThreads). */
        readonly batchThreads: number,
        private readonly modelBytes: number
    ) {
        this.current = batchThreads;
    }

    /** The context's policy (created on first use); undefined when the pinned internals are missing. */
    static of(context: LlamaContext): ThreadPolicy | undefined {
        const native = nativeContextOf(context);
        const internals = contextInternalsOf(context);
        if (native == null || internals == null) return undefined;
        let policy = policies.get(native);
        if (policy == null) policies.set(native, policy = new ThreadPolicy(native, internals.idealThreads, context.model.size));
        return policy;
    }

    /** --threads: the user's count for every decode; no timing of 1 thread against it. */
    static keepUserThreads(context: LlamaContext) {
        const policy = ThreadPolicy.of(context);
        if (policy != null) policy.fixed = true;
    }

    /** The chooser for decodes of `width` sequences one token each; undefined when the count is fixed. */
    chooserFor(width: number): TokenThreadChooser | undefined {
        if (this.fixed || this.batchThreads <= 1) return undefined;
        let chooser = this.choosers.get(width);
        if (chooser == null) this.choosers.set(width, chooser = TokenThreadChooser.measuring(this.batchThreads, this.modelBytes));
        return chooser;
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
}

const policies = new WeakMap<object, ThreadPolicy>();
