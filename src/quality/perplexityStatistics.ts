import type {KldSums} from "./positionMath.js";

/** Perplexity so far: e^(mean −log p), and llama-perplexity's uncertainty of it. */
export type PerplexityEstimate = {ppl: number, pplUncertainty: number, count: number};

/** The running sums of llama-perplexity's `perplexity()`: Σ nll, Σ nll², and the count. */
export class NllSums {
    nll = 0;
    nll2 = 0;
    count = 0;

    add(nll: number) {
        this.nll += nll;
        this.nll2 += nll * nll;
        this.count++;
    }

    /** The running value printed after each chunk (`[i]` in its output). */
    get ppl(): number {
        return Math.exp(this.nll / this.count);
    }

    /** "Final estimate: PPL = X +/- Y": Y = PPL · sd(nll)/√(n−1); undefined where it prints its negative-variance error. */
    final(): PerplexityEstimate | undefined {
        const mean = this.nll / this.count;
        const ppl = Math.exp(mean);
        const variance = this.nll2 / this.count - mean * mean;
        if (!(variance > 0)) return undefined;
        return {ppl, pplUncertainty: Math.sqrt(variance / (this.count - 1)) * ppl, count: this.count};
    }
}

/** llama-perplexity's `mean_and_uncertainty`: the mean and its standard error (0 for 10 values or fewer). */
export function meanAndUncertainty(sum: number, sum2: number, count: number): [mean: number, uncertainty: number] {
    if (count < 1) return [0, 0];
    const mean = sum / count;
    const variance = sum2 / count - mean * mean;
    return [mean, variance > 0 && count > 10 ? Math.sqrt(variance / (count - 1)) : 0];
}

function covariance(sumA: number, sumB: number, sumAB: number, count: number): number {
    if (count < 10) return 0;
    return (sumAB / count - (sumA / count) * (sumB / count)) / (count - 1);
}

/** What each line of the KL-divergence table shows (values with their ±). */
export type KldChunkLine = {
    chunk: number,
    ppl: [number, number],
    lnPplRatio: [number, number],
    kld: [number, number],
    /** RMS of Δp, as a fraction. */
    pDiffRms: [number, number],
    sameTop: [number, number]
};

export function kldChunkLine(chunk: number, sums: KldSums): KldChunkLine {
    const logPpl = meanAndUncertainty(sums.sumNll, sums.sumNll2, sums.count);
    const pplValue = Math.exp(logPpl[0]);
    const logPplBase = meanAndUncertainty(sums.sumNllBase, sums.sumNllBase2, sums.count);
    const logPplCovariance = covariance(sums.sumNll, sums.sumNllBase, sums.sumNllNllBase, sums.count);
    const pDiffMse = meanAndUncertainty(sums.sumPDiff2, sums.sumPDiff4, sums.count);
    const pDiffRms = Math.sqrt(pDiffMse[0]);
    const sameTop = sums.sameTop / sums.count;
    return {
        chunk,
        ppl: [pplValue, pplValue * logPpl[1]],
        lnPplRatio: [logPpl[0] - logPplBase[0], Math.sqrt(logPpl[1] ** 2 + logPplBase[1] ** 2 - 2 * logPplCovariance)],
        kld: meanAndUncertainty(sums.sumKld, sums.sumKld2, sums.count),
        pDiffRms: [pDiffRms, 0.5 / pDiffRms * pDiffMse[1]],
        sameTop: [sameTop, Math.sqrt(sameTop * (1 - sameTop) / (sums.count - 1))]
    };
}

/** The closing blocks of llama-perplexity's KL-divergence mode: perplexities, KLD and Δp distributions. */
export type KldSummary = {
    count: number,
    ppl: [number, number],
    pplBase: [number, number],
    /** Cor(ln PPL(Q), ln PPL(base)), a fraction. */
    correlation: number,
    lnPplRatio: [number, number],
    pplRatio: [number, number],
    pplDifference: [number, number],
    kld: {mean: number, sd: number, max: number, p99_9: number, p99: number, p95: number, p90: number, median: number, p10: number, p5: number, p1: number, p0_1: number, min: number},
    /** Fractions (llama-perplexity prints them ×100 as %). */
    pDiff: {mean: number, sd: number, max: number, p99_9: number, p99: number, p95: number, p90: number, p75: number, median: number, p25: number, p10: number, p5: number, p1: number, p0_1: number, min: number},
    pDiffRms: [number, number],
    sameTop: [number, number]
};

const f = Math.fround;

/** llama-perplexity's `percentile` over sorted floats, in its float arithmetic. */
function percentile(sorted: Float32Array, fraction: number): number {
    const fractionF = f(fraction);
    if (fractionF <= 0) return sorted[0]!;
    if (fractionF >= 1) return sorted[sorted.length - 1]!;
    let p = f(fractionF * (sorted.length - 1));
    const ip = Math.trunc(p);
    p = f(p - ip);
    return f(f(f(1 - p) * sorted[ip]!) + f(p * sorted[Math.min(ip + 1, sorted.length - 1)]!));
}

function medianOf(sorted: Float32Array): number {
    const n = sorted.length;
    return n % 2 === 0 ? f(0.5 * f(sorted[n / 2]! + sorted[n / 2 - 1]!)) : sorted[Math.floor(n / 2)]!;
}

/**
 * The summary llama-perplexity prints at the end; undefined under 100 scored tokens, where it prints
 * none ("we do not wish to do statistics on so few values"). Sorts the arrays in place.
 */
export function kldSummary(sums: KldSums, kldValues: Float32Array, pDiffValues: Float32Array): KldSummary | undefined {
    if (sums.count < 100) return undefined;
    kldValues.sort();
    pDiffValues.sort();
    const logPpl = meanAndUncertainty(sums.sumNll, sums.sumNll2, sums.count);
    const ppl = Math.exp(logPpl[0]);
    const pplUncertainty = ppl * logPpl[1];
    const logPplBase = meanAndUncertainty(sums.sumNllBase, sums.sumNllBase2, sums.count);
    const pplBase = Math.exp(logPplBase[0]);
    const pplBaseUncertainty = pplBase * logPplBase[1];
    const logPplCovariance = covariance(sums.sumNll, sums.sumNllBase, sums.sumNllNllBase, sums.count);
    const lnRatio = logPpl[0] - logPplBase[0];
    const lnRatioUncertainty = Math.sqrt(logPpl[1] ** 2 + logPplBase[1] ** 2 - 2 * logPplCovariance);
    const ratio = Math.exp(lnRatio);
    const pplCovariance = ppl * pplBase * logPplCovariance;
    const kldMean = meanAndUncertainty(sums.sumKld, sums.sumKld2, sums.count);
    const pDiffMean = meanAndUncertainty(sums.sumPDiff, sums.sumPDiff2, sums.count);
    const pDiffMse = meanAndUncertainty(sums.sumPDiff2, sums.sumPDiff4, sums.count);
    const pDiffRms = Math.sqrt(pDiffMse[0]);
    const sameTop = sums.sameTop / sums.count;
    const distribution = (values: Float32Array) => ({
        max: values[values.length - 1]!, p99_9: percentile(values, 0.999), p99: percentile(values, 0.99), p95: percentile(values, 0.95),
        p90: percentile(values, 0.9), median: medianOf(values), p10: percentile(values, 0.1), p5: percentile(values, 0.05),
        p1: percentile(values, 0.01), p0_1: percentile(values, 0.001), min: values[0]!
    });
    return {
        count: sums.count,
        ppl: [ppl, pplUncertainty],
        pplBase: [pplBase, pplBaseUncertainty],
        correlation: logPplCovariance / (logPpl[1] * logPplBase[1]),
        lnPplRatio: [lnRatio, lnRatioUncertainty],
        pplRatio: [ratio, ratio * lnRatioUncertainty],
        pplDifference: [ppl - pplBase, Math.sqrt(pplUncertainty ** 2 + pplBaseUncertainty ** 2 - 2 * pplCovariance)],
        kld: {mean: kldMean[0], sd: kldMean[1], ...distribution(kldValues)},
        pDiff: {mean: pDiffMean[0], sd: pDiffMean[1], ...distribution(pDiffValues), p75: percentile(pDiffValues, 0.75), p25: percentile(pDiffValues, 0.25)},
        pDiffRms: [pDiffRms, 0.5 / pDiffRms * pDiffMse[1]],
        sameTop: [sameTop, Math.sqrt(sameTop * (1 - sameTop) / (sums.count - 1))]
    };
}
