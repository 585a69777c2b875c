import {median} from "../../statistics.js";

/**
 * Picks the thread count for one-token decodes (generation) by timing them: `batchThreads` or 1.
 *
 * Why 1 can win: node-llama-cpp 3.21.1 never attaches a ggml threadpool to its context, and its
 * prebuilt CPU library has no OpenMP, so every graph compute with n threads creates n-1 new threads
 * and joins them at the end (strace: one clone3 per token; llama-bench: one per run). The threads wait
 * for each other at a spinning barrier after every graph node. When the kernel places the new thread
 * on the creating thread's CPU (perf sched, 2-vCPU KVM box, kernel 6.18, HZ=250: ~65% of the tokens
 * of the 0.5M-parameter test model, the other CPU idle), both spin in turn through 4 ms timeslices:
 * ~12 ms a token instead of ~0.2 ms, 70–1500 tok/s at 2 threads against ~15,000 at 1. With ~2 ms
 * tokens (a 212M-parameter model) the new thread went to the idle CPU and 2 threads beat 1 (~470 vs
 * ~350 tok/s); at Mixtral's real layer width (15–25 ms a token) more threads always pay, and 1
 * thread would halve the speed of the tool's main job.
 *
 * The rule, so that a large model can never lose: generation runs at `batchThreads` and only
 * compares it with 1 thread when a token decodes in under `fastTokenMs`, or when the model's weights
 * are under `smallModelBytes` (test and toy models: on a loaded machine every multi-thread token of
 * the 0.5M-parameter test model can be slow — recorded at load average 40 on 2 cores: 58–2,143 ms a
 * token at 2 threads, 0.3–12 ms at 1 — so no fast token ever shows up). Noise only makes tokens
 * slower, never faster, so a model whose tokens really take 15 ms never opens the comparison however
 * noisy its samples. The comparison takes `samplesEach` samples of each count (1 thread first: it
 * is the cheap one there) and decides on their medians, so one outlier cannot decide; only a
 * multi-thread token `collapseFactor` times slower than the 1-thread median — a thread-start
 * collapse, which load noise (2–3x) does not produce — decides at once.
 * A decision is re-checked when later tokens say it looks wrong: a fast `batchThreads` token after
 * `batchThreads` was kept without a comparison (its first samples may all have collapsed), or the
 * median of the last `samplesEach` tokens at the chosen count slower than the other count's median.
 * Re-checks are bounded (`maxComparisons`), so a machine whose load keeps changing does not flap.
 * The first decode of each loop (right after a prompt batch) is untimed. Prompt batches always use
 * batchThreads. The real fix is native: attach a persistent ggml threadpool (llama_attach_threadpool).
 */
export class TokenThreadChooser {
    /** Tokens this fast are where a thread start per token can cost more than the threads save. */
    static readonly fastTokenMs = 2;
    /** Weights this small make a token cheap whatever the timings of the moment say. */
    static readonly smallModelBytes = 64 * 1024 * 1024;
    static readonly samplesEach = 3;
    static readonly collapseFactor = 10;
    static readonly maxComparisons = 4;

    private comparing = false;
    private comparisons = 0;
    /** The count in use outside a comparison; undefined until enough samples back it. */
    private decided: number | undefined;
    /** Samples of the running comparison, or of the last one once decided. */
    private many: number[] = [];
    private one: number[] = [];
    /** The last samples at the chosen count, for the re-check. */
    private recent: number[] = [];
    private untimedNext = true;

    private constructor(private readonly batchThreads: number, private readonly fixed: boolean) {}

    /** Times tokens and chooses (the default); `modelBytes` is the size of the model's weights. */
    static measuring(batchThreads: number, modelBytes: number): TokenThreadChooser {
        const chooser = new TokenThreadChooser(batchThreads, false);
        if (modelBytes < TokenThreadChooser.smallModelBytes) chooser.open({one: [], many: []});
        return chooser;
    }

    /** Always `threads`: the user chose them with --threads. */
    static fixedAt(threads: number): TokenThreadChooser {
        const chooser = new TokenThreadChooser(threads, true);
        chooser.decided = threads;
        return chooser;
    }

    /** A new generation loop: its first decode follows a prompt batch and is not timed. */
    startLoop() {
        this.untimedNext = true;
    }

    next(): number {
        if (this.fixed) return this.batchThreads;
        if (!this.comparing) return this.decided ?? this.batchThreads;
        return this.one.length < TokenThreadChooser.samplesEach ? 1 : this.batchThreads;
    }

    record(threads: number, ms: number) {
        if (this.fixed) return;
        if (this.untimedNext) {
            this.untimedNext = false;
            return;
        }
        if (this.comparing) this.compare(threads, ms);
        else this.watch(ms);
    }

    /** The decision, once made (undefined while samples are being taken). */
    get choice(): number | undefined {
        return this.comparing ? undefined : this.decided;
    }

    private compare(threads: number, ms: number) {
        const {samplesEach, collapseFactor} = TokenThreadChooser;
        (threads === 1 ? this.one : this.many).push(ms);
        if (this.one.length < samplesEach) return;
        const oneMedian = median(this.one);
        if (this.many.length >= samplesEach) this.decide(oneMedian < median(this.many) ? 1 : this.batchThreads);
        else if (this.many.length > 0 && Math.min(...this.many) > collapseFactor * oneMedian) this.decide(1);
    }

    private watch(ms: number) {
        const {samplesEach, fastTokenMs} = TokenThreadChooser;
        this.recent = [...this.recent, ms].slice(-samplesEach);
        const atBatchThreads = this.decided !== 1;
        // Never compared yet: only a token fast enough to be hurt by thread starts opens a comparison
        // (a large model's never is); the batchThreads samples so far count in it.
        if (atBatchThreads && this.comparisons === 0 && ms < fastTokenMs) {
            this.open({one: [], many: this.recent});
            return;
        }
        if (this.decided == null) {
            if (this.recent.length >= samplesEach) this.decided = this.batchThreads;
            return;
        }
        // The chosen count got slower than the other count's median was: the load changed, compare again.
        const other = atBatchThreads ? this.one : this.many;
        if (this.recent.length >= samplesEach && other.length > 0 && median(this.recent) > median(other))
            this.open(atBatchThreads ? {one: [], many: this.recent} : {one: this.recent, many: []});
    }

    private decide(threads: number) {
        this.comparing = false;
        this.decided = threads;
        this.recent = [];
    }

    /** Starts a comparison from the samples given, unless the budget of comparisons is spent. */
    private open(samples: {one: number[], many: number[]}) {
        if (this.comparisons >= TokenThreadChooser.maxComparisons) return;
        this.comparisons++;
        this.comparing = true;
        this.one = [...samples.one];
        this.many = [...samples.many];
        this.recent = [];
    }
}
