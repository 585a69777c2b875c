import {InterruptedError, MixtralError} from "../../errors.js";
import {requestCompletion, type EndpointConfig} from "../../remote/openAiClient.js";
import {randomPrompts} from "./randomPrompts.js";
import {servingRow} from "./servingMetrics.js";
import type {RequestSample, ServingRow} from "./types.js";

export type ServingLevel = {concurrency: number, inputLen: number, outputLen: number};

export type ServingBenchOptions = {
    endpoint: EndpointConfig,
    /** The base URL as printed in rows. */
    endpointLabel: string,
    model: string,
    levels: ServingLevel[],
    /** Requests sent at each level. */
    requests: number,
    warmup: boolean,
    signal?: AbortSignal,
    onProgress?: (text: string) => void,
    onRow?: (row: ServingRow) => void,
    /** A request that failed: the run goes on, the level's row counts it. */
    onFailure?: (message: string) => void
};

/**
 * One streamed /completions request, timed as vLLM's benchmark_serving times it: TTFT from sending
 * to the first text, every gap between chunks an inter-token latency, the latency to the end.
 * ignore_eos asks for exactly max_tokens (llama-server and vLLM honour it; other servers ignore it,
 * and the usage counts say what really came).
 */
async function timedRequest(options: ServingBenchOptions, prompt: string, outputLen: number): Promise<RequestSample> {
    const itlMs: number[] = [];
    let previous: number | undefined;
    try {
        const outcome = await requestCompletion(options.endpoint, {
            route: "completions",
            body: {model: options.model, prompt, max_tokens: outputLen, temperature: 0, ignore_eos: true},
            stream: true,
            signal: options.signal,
            onText: (_text, at) => {
                if (previous != null) itlMs.push(at - previous);
                previous = at;
            }
        });
        const endedAt = performance.now();
        if (outcome.aborted) return {ok: false, error: "interrupted", promptTokens: 0, outputTokens: 0, ttftMs: 0, latencyMs: 0, itlMs};
        if (outcome.finishReason == null)
            return {ok: false, error: "the stream ended before the answer was finished", promptTokens: 0, outputTokens: 0, ttftMs: 0, latencyMs: 0, itlMs};
        return {
            ok: true,
            promptTokens: outcome.usage?.promptTokens ?? 0,
            outputTokens: outcome.usage?.completionTokens ?? outcome.textChunks,
            ttftMs: (outcome.firstTextAt ?? endedAt) - outcome.sentAt,
            latencyMs: endedAt - outcome.sentAt,
            itlMs
        };
    } catch (error) {
        const message = error instanceof MixtralError ? error.message : error instanceof Error ? error.message : String(error);
        return {ok: false, error: message, promptTokens: 0, outputTokens: 0, ttftMs: 0, latencyMs: 0, itlMs};
    }
}

/** Sends `requests` prompts with at most `concurrency` in flight (vLLM's --max-concurrency, request rate inf). */
async function runLevel(options: ServingBenchOptions, level: ServingLevel, seed: number): Promise<{samples: RequestSample[], durationS: number}> {
    const prompts = randomPrompts(options.requests, level.inputLen, seed);
    const samples: RequestSample[] = new Array<RequestSample>(prompts.length);
    let next = 0;
    let finished = 0;
    const started = performance.now();
    const aborted = () => options.signal?.aborted === true;
    const worker = async () => {
        while (next < prompts.length && !aborted()) {
            const index = next++;
            const sample = await timedRequest(options, prompts[index] ?? "", level.outputLen);
            samples[index] = sample;
            finished++;
            if (!sample.ok && !aborted()) options.onFailure?.(sample.error ?? "failed");
            options.onProgress?.(`concurrency ${level.concurrency}: ${finished}/${prompts.length} requests`);
        }
    };
    await Promise.all(Array.from({length: Math.min(level.concurrency, prompts.length)}, worker));
    if (aborted()) throw new InterruptedError("Interrupted; the rows above are complete.");
    return {samples, durationS: (performance.now() - started) / 1000};
}

export async function runServingBench(options: ServingBenchOptions): Promise<{rows: ServingRow[], failedRequests: number}> {
    if (options.warmup) {
        // One untimed request: the server's first one pays for lazy setup (and tells us early if it is not there).
        options.onProgress?.("warm-up request");
        // Errors propagate as they are: a refused connection is one sentence, not a failed row.
        const warm = await requestCompletion(options.endpoint, {
            route: "completions",
            body: {model: options.model, prompt: randomPrompts(1, 8, 999_999)[0] ?? "warm up", max_tokens: 4, temperature: 0},
            stream: true,
            signal: options.signal
        });
        if (warm.aborted || options.signal?.aborted === true) throw new InterruptedError();
    }
    const rows: ServingRow[] = [];
    let failedRequests = 0;
    for (const [index, level] of options.levels.entries()) {
        const testTime = new Date();
        // Each level its own prompts, so no level finds the previous one's in a prompt cache.
        const {samples, durationS} = await runLevel(options, level, index + 1);
        const row = servingRow({endpoint: options.endpointLabel, model: options.model, ...level, testTime}, samples, durationS);
        failedRequests += row.failed;
        rows.push(row);
        options.onRow?.(row);
    }
    return {rows, failedRequests};
}
