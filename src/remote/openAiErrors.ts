import type {IncomingHttpHeaders} from "node:http";
import {EndpointError} from "../errors.js";
import {describeEndpoint} from "./endpointUrl.js";

/**
 * The message inside an error body. OpenAI's shape is {"error": {"message", "type", "param",
 * "code"}}; llama-server, vLLM and Ollama use it too, some older servers {"error": "text"} or
 * {"message": "text"} or {"detail": "text"}.
 */
export function errorMessageOf(body: unknown): string | undefined {
    if (body == null || typeof body !== "object") return undefined;
    const record = body as Record<string, unknown>;
    const error = record.error;
    if (typeof error === "string") return error;
    if (error != null && typeof error === "object") {
        const message = (error as Record<string, unknown>).message;
        if (typeof message === "string") return message;
    }
    for (const key of ["message", "detail"]) if (typeof record[key] === "string") return record[key];
    return undefined;
}

function parseJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/**
 * A server's text without control characters (C0, DEL, C1), before it reaches a terminal: an ESC
 * or BEL in an error message would otherwise move the cursor, recolour or clear the user's screen.
 */
export function printable(text: string): string {
    // eslint-disable-next-line no-control-regex
    return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (character) => /\s/.test(character) ? " " : "");
}

/** One line of the server's message: no trailing period doubled, no multi-line dumps, no control characters. */
export function oneLine(text: string): string {
    const line = printable(text).replace(/\s+/g, " ").trim();
    return (line.length > 300 ? `${line.slice(0, 297)}…` : line).replace(/[.]$/, "");
}

/** A failed response (status ≥ 400) as one sentence and a hint that says what to do. */
export function errorFromResponse(endpoint: URL, status: number, bodyText: string, headers: IncomingHttpHeaders = {}): EndpointError {
    const where = describeEndpoint(endpoint);
    const serverMessage = errorMessageOf(parseJson(bodyText));
    const said = serverMessage == null || serverMessage.trim() === "" ? "" : `: ${oneLine(serverMessage)}`;
    if (status === 401 || status === 403)
        return new EndpointError(`${where} refused the API key (HTTP ${status})${said}.`, {
            hint: "Set MIXTRAL_API_KEY to the server's key (it is sent as a Bearer token)."
        });
    if (status === 404 && serverMessage == null)
        return new EndpointError(`${where} has no OpenAI-compatible API there (HTTP 404).`, {
            hint: "The base URL usually ends in /v1, e.g. http://127.0.0.1:8080/v1 (Ollama: http://127.0.0.1:11434/v1)."
        });
    if (status === 404)
        return new EndpointError(`${where} answered HTTP 404${said}.`, {
            hint: "If the model is unknown there, pass one of the ids its /v1/models lists with --model."
        });
    if (status === 503 || status === 429) {
        const retryAfter = headers["retry-after"];
        return new EndpointError(`${where} is busy (HTTP ${status})${said}.`, {
            hint: retryAfter != null ? `Try again in ${retryAfter} s.` : "Try again in a moment; the server may be loading its model or have a full queue."
        });
    }
    if (status === 413)
        return new EndpointError(`${where} refused the request as too large (HTTP 413)${said}.`, {hint: "Shorten the prompt or the conversation."});
    if (status >= 400 && status < 500)
        return new EndpointError(`${where} refused the request (HTTP ${status})${said}.`, {
            hint: "The server rejected a value it was sent; the message above says which."
        });
    return new EndpointError(`${where} failed (HTTP ${status})${said}.`, {hint: "The server had an internal error; its own log says more."});
}

/** An error object sent inside a stream (`data: {"error": …}`), as llama-server and vLLM do mid-generation. */
export function streamError(endpoint: URL, body: unknown): EndpointError | undefined {
    if (body == null || typeof body !== "object" || !("error" in body)) return undefined;
    const message = errorMessageOf(body) ?? "an error without a message";
    // Our server's shutdown (code shutting_down): the answer so far is all there is.
    const code = (body as {error?: {code?: unknown}}).error?.code;
    return new EndpointError(`${describeEndpoint(endpoint)} stopped with an error: ${oneLine(message)}.`, {
        hint: code === "shutting_down" ? "What was printed is only part of the answer; try again once the server is back." : "The server's own log says more."
    });
}

/** A success status whose body is not what an OpenAI-compatible server sends. */
export function notOpenAiError(endpoint: URL, what: string, cause?: unknown): EndpointError {
    return new EndpointError(`${describeEndpoint(endpoint)} did not answer like an OpenAI-compatible API (${what}).`, {
        hint: "Check --endpoint: it should be the base URL OpenAI clients take, usually ending in /v1.",
        cause
    });
}
