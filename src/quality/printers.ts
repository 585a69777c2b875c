import type {KldChunkLine, KldSummary, PerplexityEstimate} from "./perplexityStatistics.js";
import type {KlDivergenceResult} from "./measureKlDivergence.js";
import type {PerplexityResult, RunTotals} from "./measurePerplexity.js";

/**
 * llama-perplexity's output, character for character where it prints results (its `LOG(...)` lines
 * on stdout and its "Final estimate" line), so that scripts written for it read ours; and the JSON
 * of `--json`.
 */

/** printf's "%W.Pf": fixed to P decimals, right-aligned in W characters. */
export function fixed(value: number, width: number, precision: number): string {
    const text = Number.isFinite(value) ? value.toFixed(precision) : Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
    return text.padStart(width);
}

/** "[3]12.3456,": the running perplexity after chunk 3, as llama-perplexity prints them on one line. */
export function runningPerplexity(chunk: number, ppl: number): string {
    return `[${chunk}]${fixed(ppl, 0, 4)},`;
}

export function finalEstimate(estimate: PerplexityEstimate | undefined): string {
    if (estimate == null) return "Unexpected negative standard deviation of log(prob)";
    return `Final estimate: PPL = ${fixed(estimate.ppl, 0, 4)} +/- ${fixed(estimate.pplUncertainty, 0, 5)}`;
}

export const kldTableHeader = "chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p";

export function kldTableLine(line: KldChunkLine): string {
    const pair = ([value, uncertainty]: [number, number], width: number, precision: number) => `${fixed(value, width, precision)} ± ${fixed(uncertainty, width, precision)}`;
    const percent = ([value, uncertainty]: [number, number]) => `${fixed(100 * value, 6, 3)} ± ${fixed(100 * uncertainty, 6, 3)} %`;
    return `${String(line.chunk).padStart(4)}    ${pair(line.ppl, 9, 4)}    ${pair(line.lnPplRatio, 10, 5)}    ${pair(line.kld, 10, 5)}    ${percent(line.pDiffRms)}    ${percent(line.sameTop)}`;
}

/** The three closing blocks of llama-perplexity's KL-divergence mode. */
export function kldSummaryText(summary: KldSummary): string {
    const pair = ([value, uncertainty]: [number, number]) => `${fixed(value, 10, 6)} ± ${fixed(uncertainty, 10, 6)}`;
    const {kld, pDiff} = summary;
    const pct = (value: number) => `${fixed(100 * value, 6, 3)}%`;
    return [
        "====== Perplexity statistics ======",
        `Mean PPL(Q)                   : ${pair(summary.ppl)}`,
        `Mean PPL(base)                : ${pair(summary.pplBase)}`,
        `Cor(ln(PPL(Q)), ln(PPL(base))): ${fixed(100 * summary.correlation, 6, 2)}%`,
        `Mean ln(PPL(Q)/PPL(base))     : ${pair(summary.lnPplRatio)}`,
        `Mean PPL(Q)/PPL(base)         : ${pair(summary.pplRatio)}`,
        `Mean PPL(Q)-PPL(base)         : ${pair(summary.pplDifference)}`,
        "",
        "====== KL divergence statistics ======",
        `Mean    KLD: ${pair([kld.mean, kld.sd])}`,
        `Maximum KLD: ${fixed(kld.max, 10, 6)}`,
        `99.9%   KLD: ${fixed(kld.p99_9, 10, 6)}`,
        `99.0%   KLD: ${fixed(kld.p99, 10, 6)}`,
        `95.0%   KLD: ${fixed(kld.p95, 10, 6)}`,
        `90.0%   KLD: ${fixed(kld.p90, 10, 6)}`,
        `Median  KLD: ${fixed(kld.median, 10, 6)}`,
        `10.0%   KLD: ${fixed(kld.p10, 10, 6)}`,
        ` 5.0%   KLD: ${fixed(kld.p5, 10, 6)}`,
        ` 1.0%   KLD: ${fixed(kld.p1, 10, 6)}`,
        ` 0.1%   KLD: ${fixed(kld.p0_1, 10, 6)}`,
        `Minimum KLD: ${fixed(kld.min, 10, 6)}`,
        "",
        "====== Token probability statistics ======",
        `Mean    Δp: ${fixed(100 * pDiff.mean, 6, 3)} ± ${fixed(100 * pDiff.sd, 5, 3)} %`,
        `Maximum Δp: ${pct(pDiff.max)}`,
        `99.9%   Δp: ${pct(pDiff.p99_9)}`,
        `99.0%   Δp: ${pct(pDiff.p99)}`,
        `95.0%   Δp: ${pct(pDiff.p95)}`,
        `90.0%   Δp: ${pct(pDiff.p90)}`,
        `75.0%   Δp: ${pct(pDiff.p75)}`,
        `Median  Δp: ${pct(pDiff.median)}`,
        `25.0%   Δp: ${pct(pDiff.p25)}`,
        `10.0%   Δp: ${pct(pDiff.p10)}`,
        ` 5.0%   Δp: ${pct(pDiff.p5)}`,
        ` 1.0%   Δp: ${pct(pDiff.p1)}`,
        ` 0.1%   Δp: ${pct(pDiff.p0_1)}`,
        `Minimum Δp: ${pct(pDiff.min)}`,
        `RMS Δp    : ${fixed(100 * summary.pDiffRms[0], 6, 3)} ± ${fixed(100 * summary.pDiffRms[1], 5, 3)} %`,
        `Same top p: ${fixed(100 * summary.sameTop[0], 6, 3)} ± ${fixed(100 * summary.sameTop[1], 5, 3)} %`
    ].join("\n");
}

const round = (value: number, digits = 6) => Number.isFinite(value) ? Number(value.toFixed(digits)) : null;

function totalsJson(totals: RunTotals) {
    return {
        chunks: totals.chunks,
        n_ctx: totals.contextSize,
        n_batch: totals.batchSize,
        n_seq: totals.sequences,
        tokens_evaluated: totals.tokensEvaluated,
        tokens_scored: totals.tokensScored,
        seconds: round(totals.seconds, 3),
        decode_seconds: round(totals.decodeSeconds, 3),
        read_seconds: round(totals.readSeconds, 3),
        tokens_per_second: round(totals.tokensPerSecond, 2)
    };
}

/** `--json` of a perplexity run (and of a base-file run, which names the file). */
export function perplexityJson(result: PerplexityResult, model: string) {
    return {
        model,
        ppl: round(result.estimate?.ppl ?? result.ppl),
        ppl_sd: result.estimate == null ? null : round(result.estimate.pplUncertainty),
        tokens: result.tokens,
        ...totalsJson(result),
        ...(result.baseFile == null ? {} : {kl_divergence_base: result.baseFile})
    };
}

/**
 * `--json` of a KL-divergence run: PPL(Q) and PPL(base) with their ±, and `kld` with the
 * distribution's points; `sd` is the ± llama-perplexity prints after the mean (its standard error).
 */
export function klDivergenceJson(result: KlDivergenceResult, model: string) {
    const {summary, line} = result;
    const pair = ([value, uncertainty]: [number, number]) => ({value: round(value), sd: round(uncertainty)});
    const kld = summary == null ? {mean: round(line.kld[0]), sd: round(line.kld[1])}
        : Object.fromEntries(Object.entries(summary.kld).map(([key, value]) => [key, round(value)]));
    return {
        model,
        kl_divergence_base: result.baseFile,
        ppl: round(summary?.ppl[0] ?? line.ppl[0]),
        ppl_sd: round(summary?.ppl[1] ?? line.ppl[1]),
        ppl_base: summary == null ? null : round(summary.pplBase[0]),
        ppl_base_sd: summary == null ? null : round(summary.pplBase[1]),
        ln_ppl_ratio: pair(summary?.lnPplRatio ?? line.lnPplRatio),
        kld,
        delta_p_rms_pct: round(100 * (summary?.pDiffRms[0] ?? line.pDiffRms[0]), 4),
        same_top_pct: round(100 * (summary?.sameTop[0] ?? line.sameTop[0]), 4),
        same_top_pct_sd: round(100 * (summary?.sameTop[1] ?? line.sameTop[1]), 4),
        ...totalsJson(result)
    };
}
