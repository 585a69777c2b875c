import {mean} from "../../statistics.js";
import type {RequestSample, ServingRow} from "./types.js";

/** numpy.percentile's default (linear interpolation between the closest ranks), as vLLM computes them. */
export function percentile(values: readonly number[], p: number): number {
    if (values.length === 0) return 0;
    const sorted = [...values].sort((a, b) => a - b);
    const rank = (p / 100) * (sorted.length - 1);
    const low = Math.floor(rank);
    const high = Math.ceil(rank);
    const lowValue = sorted[low] ?? 0;
    return lowValue + ((sorted[high] ?? lowValue) - lowValue) * (rank - low);
}

export type LevelInfo = {endpoint: string, model: string, concurrency: number, inputLen: number, outputLen: number, testTime: Date};

/** vLLM's calculate_metrics: throughputs over the level's wall time, latencies over completed requests. */
export function servingRow(info: LevelInfo, samples: readonly RequestSample[], durationS: number): ServingRow {
    const done = samples.filter((sample) => sample.ok);
    const inputTokens = done.reduce((sum, sample) => sum + sample.promptTokens, 0);
    const outputTokens = done.reduce((sum, sample) => sum + sample.outputTokens, 0);
    const ttft = done.map((sample) => sample.ttftMs);
    const tpot = done.filter((sample) => sample.outputTokens > 1).map((sample) => (sample.latencyMs - sample.ttftMs) / (sample.outputTokens - 1));
    const itl = done.flatMap((sample) => sample.itlMs);
    const perSecond = (count: number) => durationS > 0 ? count / durationS : 0;
    return {
        endpoint: info.endpoint,
        model: info.model,
        concurrency: info.concurrency,
        num_prompts: samples.length,
        completed: done.length,
        failed: samples.length - done.length,
        input_len: info.inputLen,
        output_len: info.outputLen,
        duration_s: durationS,
        total_input_tokens: inputTokens,
        total_output_tokens: outputTokens,
        request_throughput: perSecond(done.length),
        output_throughput: perSecond(outputTokens),
        total_token_throughput: perSecond(inputTokens + outputTokens),
        mean_ttft_ms: mean(ttft),
        median_ttft_ms: percentile(ttft, 50),
        p99_ttft_ms: percentile(ttft, 99),
        mean_tpot_ms: mean(tpot),
        median_tpot_ms: percentile(tpot, 50),
        p99_tpot_ms: percentile(tpot, 99),
        mean_itl_ms: mean(itl),
        median_itl_ms: percentile(itl, 50),
        p99_itl_ms: percentile(itl, 99),
        mean_e2el_ms: mean(done.map((sample) => sample.latencyMs)),
        test_time: info.testTime.toISOString().replace(/\.\d{3}Z$/, "Z")
    };
}
