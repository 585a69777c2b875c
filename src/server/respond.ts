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

/** Server-sent events as OpenAI streams them: `data: {json}` blocks, then `data: [DONE]`. */
export class EventStream {
    constructor(private readonly response: ServerResponse) {
        response.writeHead(200, {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "Connection": "keep-alive",
            // Proxies (nginx) would otherwise hold the chunks back.
            "X-Accel-Buffering": "no"
        });
        response.flushHeaders();
    }

    send(data: unknown) {
        if (!this.response.writableEnded && !this.response.destroyed) this.response.write(`data: ${JSON.stringify(data)}\n\n`);
    }

    /** An error after the stream started: OpenAI's clients read an `error` object in a data block. */
    fail(error: ApiError) {
        this.send(error.body);
        this.end();
    }

    end() {
        if (this.response.writableEnded || this.response.destroyed) return;
        this.response.end("data: [DONE]\n\n");
    }
}
