import type {ServerResponse} from "node:http";
import type {HttpError} from "../core/httpError.js";
import {sendJson} from "../core/sendJson.js";

/**
 * OpenAI's error body, `{"error": {"message", "type", "param", "code"}}`: the `openai` client turns
 * these into its typed errors (BadRequestError, NotFoundError, …).
 */
export function openAiErrorBody(error: HttpError) {
    return {error: {
        message: error.message,
        type: typeForStatus(error.status),
        param: error.options.param ?? null,
        code: error.options.code ?? null
    }};
}

/** An error answered as OpenAI does: its status, its headers, OpenAI's body. */
export function sendOpenAiError(response: ServerResponse, error: HttpError) {
    sendJson(response, error.status, openAiErrorBody(error), error.options.headers);
}

function typeForStatus(status: number): string {
    if (status === 401) return "authentication_error";
    if (status === 403) return "permission_error";
    if (status === 404) return "not_found_error";
    if (status === 429) return "rate_limit_error";
    if (status >= 500) return "server_error";
    return "invalid_request_error";
}
