import type {ServerResponse} from "node:http";
import type {HttpError} from "../core/httpError.js";
import {PacedWriter} from "../core/pacedWriter.js";
import {ollamaErrorBody} from "./errorShape.js";

/**
 * Newline-delimited JSON as Ollama streams it (`application/x-ndjson`, one object a line, the last
 * with `done: true`), paced like every stream of the server (see PacedWriter).
 */
export class NdjsonStream {
    private readonly writer: PacedWriter;

    constructor(response: ServerResponse, intervalMs = 0) {
        this.writer = new PacedWriter(response, intervalMs, {"Content-Type": "application/x-ndjson"});
    }

    send(line: unknown) {
        this.writer.write(`${JSON.stringify(line)}\n`);
    }

    /** An error after the stream started: Ollama sends a line `{"error": "…"}`, which its client throws. */
    fail(error: HttpError) {
        this.writer.end(`${JSON.stringify(ollamaErrorBody(error))}\n`);
    }

    end(last: unknown) {
        this.writer.end(`${JSON.stringify(last)}\n`);
    }
}
