import {median} from "../../statistics.js";

/** A change of the thread count of one-token decodes, as `--verbose` reports it. */
export type ThreadSwitch = {
    from: number,
    to: number,
    /**
     * "load": other processes held the cores (read from the CPU counters, before any token was timed);
     * "collapse": tokens at `from` jumped far above their recent median; "faster": tokens at `to`
     * were timed and beat those at `from`.
     */
    reason: "load" | "collapse" | "faster",
    /** Median milliseconds a token at `from` (its recent tokens) and at `to` (the probe's), when timed. */
    fromMs?: number,
    toMs?: number
};

type Probe = {
    /** Index of the count being timed. */
    level: number,
    direction: "down" | "up",
    samples: number[],
    /** Median ms of the count in use it must beat. */
    reference: number,
    /** Set when slow tokens started it: the median before them, and those tokens. */
    collapse?: {baseline: number, before: number[]},
    /** The probe won; one token at the count in use says whether the slow tokens were only a burst. */
    recheck?: boolean
};

/**
 * Picks the thread count of one-token decodes (generation) while they run, from their own timings:
 * `batchThreads`, half of it, … down to 1, and back up.
 *
 * Why fewer threads can win: node-llama-cpp 3.21.1 never attaches a ggml threadpool to its context and
 * its prebuilt CPU library has no OpenMP, so every graph compute with n threads creates n-1 threads and
 * joins them at the end (strace: one clone3 per token), and the threads wait for each other at a
 * spinning barrier after every graph node. When another process holds a core, or the kernel puts the
 * new thread on the creating thread's CPU, they spin in turn through whole timeslices: measured on 2
 * cores, a 212M-parameter model at 14 tok/s with 2 threads against 338 with 1 while two other processes
 * were busy; the 0.5M-parameter test model at 70–1500 tok/s against ~15,000 on a quiet machine; some
 * `serve` starts at a tenth of their speed for every request. llama-bench's OpenMP threads stay alive
 * between tokens and survive that; ours do not. On a quiet machine more threads win (212M: ~700 vs
 * ~350 tok/s), at Mixtral's real layer width by far, so the default stays `batchThreads`.
 *
 * The rules (a pure class: fed (threads, ms) samples and the cores the CPU counters say are free, so
 * tests replay recorded timings):
 * - Start: at the most threads that fit the cores other processes leave (`observeLoad`), else all.
 * - Collapse: at least 2 of the last 3 tokens over `spikeFactor` × the median of the tokens before
 *   them: the next count down is timed at once, against those slow tokens (and the one below it when
 *   it collapses too); when it wins, one more token at the count in use tells a collapse from a burst
 *   that is already over (then nothing changes). A collapse is probed back up after only
 *   `afterCollapseInterval` tokens, if the counters show room.
 * - Probes: a few tokens at the next count down (early, then every `downInterval` tokens, doubling
 *   while it loses) and at the next count up (every `upInterval` tokens while below `batchThreads`,
 *   only when the counters show room for more threads). A probe's first token far slower than the
 *   current median (`abortFactor`; `downAbortFactor` for a scheduled probe down) ends it at once, so a
 *   probe of a slower count costs one token.
 *   The median of its `probeSamples` tokens must beat the current recent median by a margin.
 * - Flapping is bounded: every switch in the last `switchMemory` tokens doubles the wait before the
 *   next probe, up to `maxInterval`.
 * The first decode of each loop (right after a prompt batch) is untimed. The real fix is native:
 * a persistent ggml threadpool (llama_attach_threadpool), which the binding does not expose.
 */
export class TokenThreadChooser {
    /** Recent tokens kept at the current count. */
    static readonly window = 12;
    static readonly spikeFactor = 3;
    static readonly probeSamples = 3;
    static readonly abortFactor = 1.5;
    /**
     * A probe down that no collapse started ends sooner: it must finish under downMargin of the
     * count in use, which a first token already this much slower leaves only to a run of fast
     * outliers; on a quiet 2-core machine 1 thread of the 212M model is ~1.35× slower than 2, under
     * abortFactor, and each such probe cost 3 slow tokens instead of 1.
     */
    static readonly downAbortFactor = 1.15;
    /** A probe down must be this much faster (its median ÷ the current one); up, less (more threads is the default). */
    static readonly downMargin = 0.85;
    static readonly upMargin = 0.95;
    static readonly firstProbeAfter = 3;
    static readonly downInterval = 64;
    static readonly upInterval = 32;
    /** After a collapse the count above is timed again soon: the slow tokens may have been a burst. */
    static readonly afterCollapseInterval = 8;
    static readonly maxInterval = 1024;
    static readonly switchMemory = 4096;

    /** The counts tried, most first: N, N/2, …, 1. */
    private readonly levels: number[];
    private level = 0;
    private recent: number[] = [];
    private probe: Probe | undefined;
    private tokens = 0;
    private downWait = TokenThreadChooser.downInterval;
    private nextDownAt = TokenThreadChooser.firstProbeAfter;
    private upWait = TokenThreadChooser.upInterval;
    private nextUpAt = Infinity;
    private lastUpProbeAt = 0;
    private available: number | undefined;
    private switchedAt: number[] = [];
    private started = false;
    private untimedNext = true;

    /** Told of every change of the count (for --verbose). */
    onSwitch: ((change: ThreadSwitch) => void) | undefined;

    private constructor(batchThreads: number, private readonly fixed: boolean) {
        this.levels = fixed ? [Math.max(1, Math.floor(batchThreads))] : threadLadder(batchThreads);
    }

    /** Adapts between `batchThreads` and 1 (the default). */
    static adaptive(batchThreads: number): TokenThreadChooser {
        return new TokenThreadChooser(batchThreads, false);
    }

    /** Always `threads`: the user chose them with --threads. */
    static fixedAt(threads: number): TokenThreadChooser {
        return new TokenThreadChooser(threads, true);
    }

    /** The count in use outside a probe. */
    get current(): number {
        return this.levels[this.level]!;
    }

    /** Switches so far (the start's choice from the load is not one). */
    get switches(): number {
        return this.switchedAt.length;
    }

    /**
     * Cores this process could have used lately (all cores less the time other processes ran, see
     * hardware/cpuLoad.ts). Sets the starting count; later it gates probes up, and at a loop's start
     * it moves down at once when fewer cores are left than threads are used.
     */
    observeLoad(availableCores: number) {
        if (Number.isFinite(availableCores)) this.available = availableCores;
    }

    /** A new generation loop: its first decode follows a prompt batch and is not timed. */
    startLoop() {
        this.untimedNext = true;
        if (!this.started) return this.begin();
        const fitting = this.fittingLevel();
        if (this.probe == null && fitting > this.level) this.switchTo(fitting, {reason: "load"}, false);
    }

    next(): number {
        if (!this.started) this.begin();
        const probe = this.probe;
        return this.levels[probe == null || probe.recheck === true ? this.level : probe.level]!;
    }

    record(threads: number, ms: number) {
        if (this.fixed || !Number.isFinite(ms)) return;
        if (this.untimedNext) {
            this.untimedNext = false;
            return;
        }
        if (this.probe != null) return this.probed(this.probe, threads, ms);
        if (threads !== this.current) return;
        this.tokens++;
        this.recent.push(ms);
        if (this.recent.length > TokenThreadChooser.window) this.recent.shift();
        this.schedule();
    }

    private begin() {
        this.started = true;
        this.level = this.fittingLevel();
        if (this.level > 0) {
            this.nextUpAt = this.upWait;
            this.onSwitch?.({from: this.levels[0]!, to: this.current, reason: "load"});
        }
    }

    /** The index of the most threads the free cores hold (0 when unknown). */
    private fittingLevel(): number {
        return fittingIndex(this.levels, this.available);
    }

    private schedule() {
        const {spikeFactor, maxInterval} = TokenThreadChooser;
        const bottom = this.level === this.levels.length - 1;
        const recent = this.recent;
        if (!bottom && recent.length >= 7) {
            const before = recent.slice(0, -3);
            const last = recent.slice(-3);
            const baseline = median(before);
            if (last.filter((ms) => ms > spikeFactor * baseline).length >= 2)
                return this.startProbe("down", median(last), {baseline, before});
        }
        if (recent.length < 3) return;
        if (!bottom && this.tokens >= this.nextDownAt) return this.startProbe("down", median(recent));
        const roomAbove = this.level > 0 && (this.available == null || this.levels[this.level - 1]! <= this.available + 0.5);
        if (this.level > 0 && this.tokens >= this.nextUpAt && (roomAbove || this.tokens - this.lastUpProbeAt >= maxInterval))
            this.startProbe("up", median(recent));
    }

    private startProbe(direction: "down" | "up", reference: number, collapse?: Probe["collapse"]) {
        if (direction === "up") this.lastUpProbeAt = this.tokens;
        this.probe = {level: this.level + (direction === "down" ? 1 : -1), direction, samples: [], reference, collapse};
    }

    private probed(probe: Probe, threads: number, ms: number) {
        const {abortFactor, downAbortFactor, probeSamples, downMargin, upMargin, spikeFactor} = TokenThreadChooser;
        if (probe.recheck) {
            if (threads !== this.current) return;
            this.tokens++;
            // The count in use is fast again: the slow tokens were a burst, not a collapse.
            if (ms <= spikeFactor * probe.collapse!.baseline) {
                this.recent = [...probe.collapse!.before, ms];
                return this.lost(probe);
            }
            return this.won(probe);
        }
        if (threads !== this.levels[probe.level]) return;
        this.tokens++;
        probe.samples.push(ms);
        const abortAt = probe.direction === "down" && probe.collapse == null ? downAbortFactor : abortFactor;
        if (probe.samples.length === 1 && ms > abortAt * probe.reference) return this.lost(probe);
        if (probe.samples.length < probeSamples) return;
        const probeMs = median(probe.samples);
        if (probeMs < (probe.direction === "down" ? downMargin : upMargin) * probe.reference) {
            // A collapse is confirmed by one more token at the count in use (next() gives it).
            if (probe.collapse != null) probe.recheck = true;
            else this.won(probe);
            return;
        }
        // Collapsing at the next count down too (not far slower than the collapsed tokens): the one below.
        if (probe.collapse != null && probe.level < this.levels.length - 1) {
            probe.level++;
            probe.samples = [];
            return;
        }
        this.lost(probe);
    }

    private won(probe: Probe) {
        this.probe = undefined;
        this.switchTo(probe.level, {reason: probe.collapse != null ? "collapse" : "faster", fromMs: probe.reference, toMs: median(probe.samples)}, true, probe.samples);
    }

    private lost(probe: Probe) {
        const {maxInterval} = TokenThreadChooser;
        this.probe = undefined;
        // Slow tokens that a smaller count did not beat are this count's speed now: a fresh median.
        if (probe.collapse != null && !probe.recheck) this.recent = [];
        if (probe.direction === "down") this.nextDownAt = this.tokens + (this.downWait = Math.min(maxInterval, this.downWait * 2));
        else this.nextUpAt = this.tokens + (this.upWait = Math.min(maxInterval, this.upWait * 2));
    }

    private switchTo(level: number, change: Omit<ThreadSwitch, "from" | "to">, timed: boolean, samples: number[] = []) {
        const {switchMemory, maxInterval, downInterval, upInterval, afterCollapseInterval} = TokenThreadChooser;
        const from = this.current;
        this.switchedAt = this.switchedAt.filter((token) => this.tokens - token < switchMemory);
        const penalty = 2 ** this.switchedAt.length;
        if (timed) this.switchedAt.push(this.tokens);
        this.level = level;
        this.recent = [...samples];
        this.downWait = Math.min(maxInterval, downInterval * penalty);
        this.nextDownAt = this.tokens + this.downWait;
        this.upWait = Math.min(maxInterval, (change.reason === "collapse" ? afterCollapseInterval : upInterval) * penalty);
        this.nextUpAt = level > 0 ? this.tokens + this.upWait : Infinity;
        this.onSwitch?.({from, to: this.current, ...change});
    }
}

/** The counts tried, most first: N, N/2, …, 1. */
export function threadLadder(batchThreads: number): number[] {
    const levels = [Math.max(1, Math.floor(batchThreads))];
    while (levels.at(-1)! > 1) levels.push(Math.max(1, Math.floor(levels.at(-1)! / 2)));
    return levels;
}

/** The most threads of the ladder that `availableCores` hold (rounded); the most of all when unknown. */
export function threadsThatFit(batchThreads: number, availableCores: number | undefined): number {
    const levels = threadLadder(batchThreads);
    return levels[fittingIndex(levels, availableCores)]!;
}

function fittingIndex(levels: readonly number[], available: number | undefined): number {
    if (available == null) return 0;
    const index = levels.findIndex((threads) => threads <= available + 0.5);
    return index < 0 ? levels.length - 1 : index;
}
