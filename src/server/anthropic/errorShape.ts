import type {ServerResponse} from "node:http";
import type {HttpError} from "../core/httpError.js";
import {sendJson} from "../core/sendJson.js";

/**
 * Anthropic's error body, `{"type": "error", "error": {"type", "message"}}`: `@anthropic-ai/sdk`
 * turns the status into its typed errors (BadRequestError, NotFoundError, …) with this message.
 */
export function anthropicErrorBody(error: HttpError) {
    return {type: "error", error: {type: typeForStatus(error.status), message: error.message}};
}

/** An error answered as Anthropic does: its status, its headers, Anthropic's body. */
export function sendAnthropicError(response: ServerResponse, error: HttpError) {
    sendJson(response, error.status, anthropicErrorBody(error), error.options.headers);
}

/** Anthropic's error types by status (docs.anthropic.com/en/api/errors); a busy server is "overloaded". */
function typeForStatus(status: number): string {
    if (status === 401) return "authentication_error";
    if (status === 403) return "permission_error";
    if (status === 404) return "not_found_error";
    if (status === 413) return "request_too_large";
    if (status === 429) return "rate_limit_error";
    if (status === 503) return "overloaded_error";
    if (status >= 500) return "api_error";
    return "invalid_request_error";
}
