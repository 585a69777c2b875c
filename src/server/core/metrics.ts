import type {SchedulerStats} from "../../engine/index.js";

/** Counts of answered HTTP requests, by route and status, for /metrics. */
export class RequestCounter {
    private readonly counts = new Map<string, number>();

    add(route: string, status: number) {
        const key = `route="${route}",status="${status}"`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }

    entries(): [string, number][] {
        return [...this.counts];
    }
}

/** Prometheus text exposition (version 0.0.4). */
export function renderMetrics(requests: RequestCounter, stats: SchedulerStats | undefined, memory: NodeJS.MemoryUsage): string {
    const lines: string[] = [];
    const metric = (name: string, type: "counter" | "gauge", help: string, samples: [string, number][]) => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        for (const [labels, value] of samples) lines.push(`${name}${labels === "" ? "" : `{${labels}}`} ${value}`);
    };
    metric("mixtral_http_requests_total", "counter", "HTTP requests answered, by route and status.", requests.entries());
    metric("mixtral_model_loaded", "gauge", "1 once the model is loaded and requests are served.", [["", stats == null ? 0 : 1]]);
    if (stats != null) {
        metric("mixtral_requests_total", "counter", "Generation requests submitted to the scheduler.", [["", stats.requests]]);
        metric("mixtral_prompt_tokens_total", "counter", "Prompt tokens of generation requests.", [["", stats.promptTokens]]);
        metric("mixtral_prompt_tokens_cached_total", "counter", "Prompt tokens reused from a sequence's KV cache instead of evaluated.", [["", stats.cachedPromptTokens]]);
        metric("mixtral_generated_tokens_total", "counter", "Tokens generated.", [["", stats.generatedTokens]]);
        metric("mixtral_decode_calls_total", "counter", "llama_decode calls (one step of all active sequences).", [["", stats.decodeCalls]]);
        metric("mixtral_decoded_tokens_total", "counter", "Tokens carried by those calls.", [["", stats.decodedTokens]]);
        metric("mixtral_busy_sequences", "gauge", "Sequences generating now.", [["", stats.busySequences]]);
        metric("mixtral_parallel_sequences", "gauge", "Sequences that can decode together (--parallel).", [["", stats.parallel]]);
        metric("mixtral_queue_length", "gauge", "Requests waiting for a free sequence.", [["", stats.queued]]);
        metric("mixtral_queue_limit", "gauge", "Requests that may wait before new ones are refused with 503.", [["", stats.queueLimit]]);
    }
    metric("process_resident_memory_bytes", "gauge", "Resident set size of the server process.", [["", memory.rss]]);
    metric("nodejs_heap_size_total_bytes", "gauge", "V8 heap allocated.", [["", memory.heapTotal]]);
    metric("nodejs_heap_size_used_bytes", "gauge", "V8 heap in use.", [["", memory.heapUsed]]);
    metric("nodejs_external_memory_bytes", "gauge", "Memory of native objects held by JavaScript (llama.cpp's buffers are counted here only in part).", [["", memory.external]]);
    return lines.join("\n") + "\n";
}
