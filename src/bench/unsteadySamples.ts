import {mean, median, sampleStdDev} from "../statistics.js";
import {tokensPerSecondSamples} from "./statistics.js";

/**
 * Telling a pathological repetition from noise. node-llama-cpp starts ggml's worker threads for every
 * decode, and the kernel can stack them on one busy CPU, where they spin against each other through
 * whole timeslices: a repetition then runs 10–100x slower than the others (measured: tg at 0.04x
 * llama-bench; 6 t/s against 346 with --mode e2e). A mean over such a sample describes neither the
 * model nor the machine, so the runner runs that repetition once more; a row whose spread stays
 * large is flagged rather than printed as if it were steady.
 */

/** A sample this many times slower than the median of the others is not noise (load noise is ~1.3–2x). */
export const farBelowFactor = 2;
/** llama-bench's rows are read as steady; above this relative standard deviation they are not. */
export const highSpreadFraction = 0.25;

/** The relative spread of the samples' tok/s: sample standard deviation ÷ mean. */
export function relativeSpread(samplesNs: readonly number[]): number {
    const ts = tokensPerSecondSamples(samplesNs, 1);
    const average = mean(ts);
    return average > 0 ? sampleStdDev(ts) / average : 0;
}

export function hasHighSpread(samplesNs: readonly number[]): boolean {
    return relativeSpread(samplesNs) > highSpreadFraction;
}

/**
 * The indexes of the repetitions to run again: each sample over `farBelowFactor` times the median
 * of the others; else, when the spread is high without one clear culprit, the slowest sample. At
 * most half of the samples (with fewer than two there is nothing to compare).
 */
export function repetitionsToRerun(samplesNs: readonly number[]): number[] {
    if (samplesNs.length < 2) return [];
    const far = samplesNs
        .map((ns, index) => ({ns, index, others: median(samplesNs.filter((_, other) => other !== index))}))
        .filter(({ns, others}) => ns > farBelowFactor * others)
        .sort((a, b) => b.ns - a.ns)
        .map(({index}) => index);
    const limit = Math.max(1, Math.floor(samplesNs.length / 2));
    if (far.length > 0) return far.slice(0, limit).sort((a, b) => a - b);
    if (!hasHighSpread(samplesNs)) return [];
    const slowest = samplesNs.indexOf(Math.max(...samplesNs));
    return [slowest];
}
