/**
 * A refusal or failure with its HTTP status, in no protocol's shape: each dialect renders it as its
 * clients expect (OpenAI's `{"error": {message, type, param, code}}`, Ollama's `{"error": "…"}`, …).
 * `code` and `param` are OpenAI's vocabulary, which the others may drop; `headers` go out with it
 * (Allow, Retry-After).
 */
export class HttpError extends Error {
    constructor(
        readonly status: number,
        message: string,
        readonly options: {param?: string | null, code?: string | null, headers?: Record<string, string>} = {}
    ) {
        super(message);
    }
}

/** A parameter with the wrong type or value: 400 naming it. */
export function invalidParam(param: string, message: string): HttpError {
    return new HttpError(400, message, {param, code: "invalid_value"});
}

/** The model is not loaded yet: 503, asking to come back in a second. */
export function loadingError(): HttpError {
    return new HttpError(503, "The model is loading.", {code: "loading", headers: {"Retry-After": "1"}});
}

/**
 * The server stopped taking requests (a request that came or waited in the queue then), or it
 * stopped while the request's answer was being generated (`cut`): that answer is incomplete, and
 * is answered as an error, never as a finished answer.
 */
export function shuttingDownError(cut = false): HttpError {
    return new HttpError(503, cut ? "The server stopped before the answer was complete: it is shutting down." : "The server is shutting down.",
        {code: "shutting_down", headers: {"Retry-After": "5"}});
}
