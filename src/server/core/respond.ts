import type {ServerResponse} from "node:http";
import {ApiError} from "./apiError.js";

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    if (response.headersSent) {
        response.end();
        return;
    }
    const text = JSON.stringify(body);
    response.writeHead(status, {"Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers});
    response.end(text);
}

export function sendError(response: ServerResponse, error: ApiError) {
    sendJson(response, error.status, error.body, error.options.headers);
}

/**
 * Server-sent events as OpenAI streams them: `data: {json}` blocks, then `data: [DONE]`.
 *
 * Writes are paced: a block sent within `intervalMs` of the last write waits for the rest of the
 * interval and goes out with the blocks after it, in one write. Why: every write wakes the client,
 * and a client on the same machine as a CPU model that uses every core preempts one of ggml's
 * threads each time; at the small test model's ~200 tokens/s on 2 cores, a write per token made
 * one stream 3–4× slower than `complete` (57 against 184 tok/s); with 30 ms pacing it ran at
 * 0.89–0.99× of `complete` (`npm run bench:serve`). A real Mixtral on a CPU (~10 tokens/s) or a typical GPU (30–60) is
 * slower than the pace, so each of its tokens still goes out on its own, at once.
 */
export class EventStream {
    private pending = "";
    private timer: NodeJS.Timeout | undefined;
    /** When the last block was written; 0: the next one goes out at once (the first text). */
    private lastWriteAt = 0;

    constructor(private readonly response: ServerResponse, private readonly intervalMs = 0) {
        response.writeHead(200, {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "Connection": "keep-alive",
            // Proxies (nginx) would otherwise hold the chunks back.
            "X-Accel-Buffering": "no"
        });
        response.flushHeaders();
        response.once("close", () => clearTimeout(this.timer));
    }

    /** Sends a block, paced; `opening` blocks (the chat role) go out at once and leave the pace to the first text. */
    send(data: unknown, {opening = false} = {}) {
        if (this.closed) return;
        this.pending += `data: ${JSON.stringify(data)}\n\n`;
        if (opening) return this.flush(false);
        const wait = this.intervalMs - (performance.now() - this.lastWriteAt);
        if (this.lastWriteAt === 0 || wait <= 0) this.flush();
        else this.timer ??= setTimeout(() => this.flush(), wait);
    }

    /** An error after the stream started: OpenAI's clients read an `error` object in a data block. */
    fail(error: ApiError) {
        this.send(error.body);
        this.end();
    }

    end() {
        if (this.closed) return;
        clearTimeout(this.timer);
        this.response.end(`${this.pending}data: [DONE]\n\n`);
        this.pending = "";
    }

    private get closed() {
        return this.response.writableEnded || this.response.destroyed;
    }

    private flush(paced = true) {
        clearTimeout(this.timer);
        this.timer = undefined;
        if (this.pending === "" || this.closed) return;
        this.response.write(this.pending);
        this.pending = "";
        if (paced) this.lastWriteAt = performance.now();
    }
}
