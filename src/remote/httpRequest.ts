import http, {type IncomingMessage} from "node:http";
import https from "node:https";
import {EndpointError} from "../errors.js";
import {describeSeconds} from "./clientTimeouts.js";
import {describeEndpoint} from "./endpointUrl.js";
import {errorFromResponse, printable} from "./openAiErrors.js";

export type RequestOptions = {
    method: "GET" | "POST",
    url: URL,
    /** The base URL, for messages. */
    endpoint: URL,
    /** Sent as JSON. */
    body?: unknown,
    /** Sent as `Authorization: Bearer …`; never printed. */
    apiKey?: string,
    signal?: AbortSignal,
    /** Connecting and the response headers must take no longer (--connect-timeout). */
    firstByteTimeoutMs?: number,
    /** The longest silence while an error body is read (--idle-timeout). */
    idleTimeoutMs?: number
};

// An error body is a sentence in JSON; a server that sends more is cut here, not read to its end.
const errorBodyLimit = 64 * 1024;

/** Thrown (as the rejection) when the signal aborted the request; callers turn it into stopReason "abort". */
export class RequestAborted extends Error {
    override name = "AbortError";
}

// Node's error codes, said the way a user would say them.
const networkReasons: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ENOTFOUND: "host not found",
    EAI_AGAIN: "host name lookup failed",
    ECONNRESET: "the connection was reset",
    EPIPE: "the connection was closed",
    ETIMEDOUT: "the connection timed out",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    EADDRNOTAVAIL: "address not available",
    DEPTH_ZERO_SELF_SIGNED_CERT: "its TLS certificate is self-signed",
    SELF_SIGNED_CERT_IN_CHAIN: "its TLS certificate chain is self-signed",
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its TLS certificate cannot be verified",
    CERT_HAS_EXPIRED: "its TLS certificate has expired",
    ERR_TLS_CERT_ALTNAME_INVALID: "its TLS certificate is for another host",
    EPROTO: "a TLS protocol error (is it plain http?)"
};

export function networkError(endpoint: URL, error: unknown): EndpointError {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const reason = (code != null ? networkReasons[code] : undefined) ?? (error instanceof Error ? error.message : String(error));
    return new EndpointError(`Cannot reach ${describeEndpoint(endpoint)} (${reason}).`, {
        hint: code === "ECONNREFUSED"
            ? "Is the server running there? Start one with `mixtral serve -m <model>`, or check --endpoint (MIXTRAL_ENDPOINT)."
            : "Check --endpoint (MIXTRAL_ENDPOINT) and that the server is up.",
        cause: error
    });
}

/**
 * One HTTP request; resolves with the response once its headers arrive and its status is a
 * success. Statuses ≥ 400 become the server's own message (OpenAI's error shape) as an
 * EndpointError. Aborting the signal destroys the socket, so the server sees the client leave.
 */
export function openRequest(options: RequestOptions): Promise<IncomingMessage> {
    const {url, endpoint, signal} = options;
    if (signal?.aborted === true) return Promise.reject(new RequestAborted());
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = {accept: "application/json, text/event-stream"};
    if (payload != null) {
        headers["content-type"] = "application/json";
        headers["content-length"] = String(payload.length);
    }
    if (options.apiKey != null && options.apiKey !== "") headers.authorization = `Bearer ${options.apiKey}`;
    const transport = url.protocol === "https:" ? https : http;

    return new Promise<IncomingMessage>((resolve, reject) => {
        let settled = false;
        const fail = (error: Error) => {
            if (settled) return;
            settled = true;
            cleanup();
            reject(error);
        };
        const request = transport.request(url, {method: options.method, headers, agent: false});
        const onAbort = () => {
            request.destroy();
            fail(new RequestAborted());
        };
        const timer = options.firstByteTimeoutMs == null ? undefined : setTimeout(() => {
            request.destroy();
            fail(notStartedError(endpoint, options.firstByteTimeoutMs ?? 0));
        }, options.firstByteTimeoutMs);
        const cleanup = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
        };
        signal?.addEventListener("abort", onAbort, {once: true});
        let responded = false;
        request.on("error", (error) => {
            // A server may answer (a 413, a 401) and close before reading the whole body: the
            // write then fails, but the answer came and is what the user needs to see.
            if (responded) return;
            fail(signal?.aborted === true ? new RequestAborted() : networkError(endpoint, error));
        });
        request.on("response", (response) => {
            responded = true;
            if (settled) {
                response.destroy();
                return;
            }
            const status = response.statusCode ?? 0;
            if (status >= 300 && status < 400) {
                response.destroy();
                fail(redirectError(endpoint, status, response.headers.location));
                return;
            }
            if (status >= 200 && status < 300) {
                settled = true;
                clearTimeout(timer);
                // The abort listener stays until the body is read: aborting then destroys the stream.
                response.on("close", () => signal?.removeEventListener("abort", onAbort));
                resolve(response);
                return;
            }
            clearTimeout(timer);
            readBody(response, {limit: errorBodyLimit, idleTimeoutMs: options.idleTimeoutMs, endpoint}).then(
                (body) => fail(errorFromResponse(endpoint, status, body, response.headers)),
                // A body cut by the closing connection: the status alone still says what happened.
                (error: unknown) => fail(signal?.aborted === true ? new RequestAborted()
                    : error instanceof EndpointError ? error : errorFromResponse(endpoint, status, "", response.headers))
            );
        });
        request.end(payload);
    });
}

/** The server accepted the connection (or not) but sent no headers in time. */
export function notStartedError(endpoint: URL, timeoutMs: number): EndpointError {
    return new EndpointError(`${describeEndpoint(endpoint)} did not start answering within ${describeSeconds(timeoutMs)}.`, {
        hint: "The server may be overloaded, queueing or still loading its model; wait longer with --connect-timeout (MIXTRAL_CONNECT_TIMEOUT), or check --endpoint."
    });
}

/** The answer had started, then nothing came for too long. */
export function wentSilentError(endpoint: URL, timeoutMs: number): EndpointError {
    return new EndpointError(`${describeEndpoint(endpoint)} sent nothing for ${describeSeconds(timeoutMs)} in the middle of its answer.`, {
        hint: "The server may be stuck or overloaded; wait longer with --idle-timeout (MIXTRAL_IDLE_TIMEOUT), or try again."
    });
}

/** 3xx: said as a redirect; never followed, so the API key goes only where --endpoint says. */
function redirectError(endpoint: URL, status: number, location: string | undefined): EndpointError {
    const target = location == null || location.trim() === "" ? "" : ` to ${printable(location).slice(0, 300)}`;
    return new EndpointError(`${describeEndpoint(endpoint)} redirects${target} (HTTP ${status}).`, {
        hint: "Give the URL it names as --endpoint: mixtral does not follow redirects, so the API key is sent only where you point it."
    });
}

export type ReadBodyOptions = {
    /** Bytes kept; the response is closed once they are read (a hostile body may never end). */
    limit?: number,
    /** The longest silence between two chunks; with `endpoint`, for the message. */
    idleTimeoutMs?: number,
    endpoint?: URL
};

/** The body as text, up to `limit` bytes (64 MiB unless told): the rest is not read. */
export async function readBody(response: IncomingMessage, {limit = 64 * 1024 * 1024, idleTimeoutMs, endpoint}: ReadBodyOptions = {}): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
        if (idleTimeoutMs == null) return;
        clearTimeout(timer);
        timer = setTimeout(() => response.destroy(endpoint == null
            ? new Error(`no data for ${describeSeconds(idleTimeoutMs)}`)
            : wentSilentError(endpoint, idleTimeoutMs)), idleTimeoutMs);
    };
    try {
        arm();
        for await (const chunk of response as AsyncIterable<Buffer>) {
            arm();
            chunks.push(chunk.subarray(0, limit - size));
            size += chunk.length;
            if (size >= limit) {
                response.destroy();
                break;
            }
        }
    } finally {
        clearTimeout(timer);
    }
    return Buffer.concat(chunks).toString("utf8");
}
