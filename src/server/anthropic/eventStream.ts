import type {ServerResponse} from "node:http";
import type {HttpError} from "../core/httpError.js";
import {PacedWriter} from "../core/pacedWriter.js";
import {anthropicErrorBody} from "./errorShape.js";

/** Server-sent events as Anthropic streams them: `event: <type>` and `data: {json}` (whose `type` repeats it), paced (see PacedWriter). */
export class AnthropicEventStream {
    private readonly writer: PacedWriter;

    constructor(response: ServerResponse, intervalMs = 0) {
        this.writer = new PacedWriter(response, intervalMs, {"Content-Type": "text/event-stream; charset=utf-8"});
    }

    /** `opening` events (message_start, content_block_start) go out at once and leave the pace to the first text. */
    send(data: {type: string} & Record<string, unknown>, {opening = false} = {}) {
        this.writer.write(frame(data), {opening});
    }

    /** An error after the stream started: an `error` event, which the SDK throws as an APIError. */
    fail(error: HttpError) {
        this.writer.end(frame(anthropicErrorBody(error)));
    }

    end(last: {type: string} & Record<string, unknown>) {
        this.writer.end(frame(last));
    }
}

function frame(data: {type: string}): string {
    return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}
