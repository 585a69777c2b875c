import type {ServerResponse} from "node:http";
import type {HttpError} from "../core/httpError.js";
import {PacedWriter} from "../core/pacedWriter.js";
import {openAiErrorBody} from "./errorShape.js";

/**
 * Server-sent events as OpenAI streams them: `data: {json}` blocks, then `data: [DONE]`, written
 * at most every `intervalMs` (`--stream-interval`; see PacedWriter for why).
 */
export class EventStream {
    private readonly writer: PacedWriter;

    constructor(response: ServerResponse, intervalMs = 0) {
        this.writer = new PacedWriter(response, intervalMs, {"Content-Type": "text/event-stream; charset=utf-8"});
    }

    /** Sends a block, paced; `opening` blocks (the chat role) go out at once and leave the pace to the first text. */
    send(data: unknown, {opening = false} = {}) {
        this.writer.write(`data: ${JSON.stringify(data)}\n\n`, {opening});
    }

    /**
     * An error after the stream started: OpenAI's clients (the openai SDKs) throw on an `error`
     * object in a data block. No `[DONE]` follows, as llama-server does: a client that ignores the
     * error must still not take the stream for a finished answer.
     */
    fail(error: HttpError) {
        this.writer.end(`data: ${JSON.stringify(openAiErrorBody(error))}\n\n`);
    }

    end() {
        this.writer.end("data: [DONE]\n\n");
    }
}
