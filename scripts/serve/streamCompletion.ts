/**
 * One streamed request to an OpenAI-compatible server (ours or llama-server), timed on the client
 * side the same way for both: when it was sent, when the first and the last text arrived, and how
 * many tokens were generated (the usage chunk; llama-server's timings; else one a chunk).
 */
export type StreamTiming = {
    sentAt: number,
    firstTokenAt: number,
    lastTokenAt: number,
    doneAt: number,
    tokens: number,
    text: string
};

export async function streamCompletion(baseUrl: string, route: "completions" | "chat/completions", body: Record<string, unknown>): Promise<StreamTiming> {
    return timedStream(`${baseUrl}/${route}`, {...body, stream: true, stream_options: {include_usage: true}}, "\n\n", (frame) => {
        if (!frame.startsWith("data: ") || frame === "data: [DONE]") return {};
        const data = JSON.parse(frame.slice(6)) as {
            choices?: {text?: string, delta?: {content?: string | null}}[],
            usage?: {completion_tokens?: number},
            timings?: {predicted_n?: number}
        };
        return {piece: data.choices?.[0]?.text ?? data.choices?.[0]?.delta?.content ?? "", tokens: data.usage?.completion_tokens ?? data.timings?.predicted_n};
    });
}

/** What one frame of a stream holds: a piece of the answer's text, the count of generated tokens (the last frames say it). */
export type StreamFrame = {piece?: string | null, tokens?: number};

/**
 * Sends `body` to `url` and times its streamed answer, split into frames at `separator` (SSE's
 * blank line, NDJSON's newline) and read by `read`: every dialect's stream timed the same way.
 */
export async function timedStream(url: string, body: Record<string, unknown>, separator: string, read: (frame: string) => StreamFrame): Promise<StreamTiming> {
    const sentAt = performance.now();
    const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    if (!response.ok || response.body == null) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
    let firstTokenAt = NaN;
    let lastTokenAt = NaN;
    let chunks = 0;
    let usageTokens: number | undefined;
    let text = "";
    let buffer = "";
    const decoder = new TextDecoder();
    for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(part, {stream: true});
        let end: number;
        while ((end = buffer.indexOf(separator)) >= 0) {
            const frame = buffer.slice(0, end).trim();
            buffer = buffer.slice(end + separator.length);
            if (frame === "") continue;
            const {piece, tokens} = read(frame);
            if (piece != null && piece !== "") {
                const now = performance.now();
                if (Number.isNaN(firstTokenAt)) firstTokenAt = now;
                lastTokenAt = now;
                chunks++;
                text += piece;
            }
            usageTokens = tokens ?? usageTokens;
        }
    }
    return {sentAt, firstTokenAt, lastTokenAt, doneAt: performance.now(), tokens: usageTokens ?? chunks, text};
}

/** Generation speed of one stream: tokens after the first over the time they took (as `complete` reports it). */
export function decodeTokensPerSecond(timing: StreamTiming): number {
    return (timing.tokens - 1) / ((timing.lastTokenAt - timing.firstTokenAt) / 1000);
}

/** Output tokens of all streams over the wall time from the first send to the last answer. */
export function aggregateTokensPerSecond(timings: StreamTiming[]): number {
    const start = Math.min(...timings.map((timing) => timing.sentAt));
    const end = Math.max(...timings.map((timing) => timing.doneAt));
    return timings.reduce((sum, timing) => sum + timing.tokens, 0) / ((end - start) / 1000);
}
