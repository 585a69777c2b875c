/**
 * One row of `mixtral bench --endpoint`: a concurrency level's results, with the names and
 * meanings of vLLM's benchmark_serving JSON (request_throughput, output_throughput, *_ttft_ms,
 * *_tpot_ms, *_itl_ms), so numbers compare with runs of that tool.
 */
export type ServingRow = {
    endpoint: string,
    model: string,
    /** Requests in flight at once. */
    concurrency: number,
    /** Requests sent at this level. */
    num_prompts: number,
    completed: number,
    failed: number,
    /** The asked prompt length (words of random text; the server's count is total_input_tokens). */
    input_len: number,
    /** max_tokens of each request. */
    output_len: number,
    duration_s: number,
    total_input_tokens: number,
    total_output_tokens: number,
    request_throughput: number,
    output_throughput: number,
    total_token_throughput: number,
    mean_ttft_ms: number,
    median_ttft_ms: number,
    p99_ttft_ms: number,
    /** Time per output token after the first: (latency − TTFT) / (tokens − 1), per request. */
    mean_tpot_ms: number,
    median_tpot_ms: number,
    p99_tpot_ms: number,
    /** Inter-token latency: every gap between two streamed chunks, of every request. */
    mean_itl_ms: number,
    median_itl_ms: number,
    p99_itl_ms: number,
    mean_e2el_ms: number,
    test_time: string
};

/** What one request measured, or why it failed. */
export type RequestSample = {
    ok: boolean,
    error?: string,
    promptTokens: number,
    outputTokens: number,
    ttftMs: number,
    latencyMs: number,
    /** Gaps between successive chunks of text, ms. */
    itlMs: number[]
};
