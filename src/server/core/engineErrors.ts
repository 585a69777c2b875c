import {QueueFullError, SchedulerClosedError} from "../../engine/index.js";
import {UsageError} from "../../errors.js";
import {HttpError, shuttingDownError} from "./httpError.js";

/** An engine error as the API reports it; anything unexpected is a 500 whose details stay in the server's log. */
export function toHttpError(error: unknown, promptParam?: string): HttpError {
    if (error instanceof HttpError) return error;
    if (error instanceof QueueFullError)
        return new HttpError(503, `The server is busy: ${error.message} Retry shortly.`, {code: "server_busy", headers: {"Retry-After": "1"}});
    if (error instanceof SchedulerClosedError) return shuttingDownError(error.running);
    // The hint names the server's flags (--context-size, --parallel): whoever runs it can act on it.
    if (error instanceof UsageError && promptParam != null)
        return new HttpError(400, error.hint == null ? error.message : `${error.message} ${error.hint}`, {code: "context_length_exceeded", param: promptParam});
    return new HttpError(500, "The model failed to generate an answer.", {code: "internal_error"});
}
