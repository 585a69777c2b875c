import type {ServerResponse} from "node:http";
import type {HttpError} from "../core/httpError.js";
import {sendJson} from "../core/sendJson.js";

/** Ollama's error body, `{"error": "…"}`: the `ollama` client throws a ResponseError with this message and the status. */
export function ollamaErrorBody(error: HttpError) {
    return {error: error.message};
}

/** An error answered as Ollama does: its status, its headers, Ollama's body. */
export function sendOllamaError(response: ServerResponse, error: HttpError) {
    sendJson(response, error.status, ollamaErrorBody(error), error.options.headers);
}
