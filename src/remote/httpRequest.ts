import http, {type IncomingMessage} from "node:http";
import https from "node:https";
import {EndpointError} from "../errors.js";
import {describeEndpoint} from "./endpointUrl.js";
import {errorFromResponse} from "./openAiErrors.js";

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
    /** No response headers within this time is a failure (generation itself may take any time). */
    headersTimeoutMs?: number
};

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
        const timer = options.headersTimeoutMs == null ? undefined : setTimeout(() => {
            request.destroy();
            fail(new EndpointError(`${describeEndpoint(endpoint)} did not answer within ${(options.headersTimeoutMs ?? 0) / 1000} s.`, {
                hint: "The server may be overloaded or still loading its model; try again, or check --endpoint."
            }));
        }, options.headersTimeoutMs);
        const cleanup = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
        };
        signal?.addEventListener("abort", onAbort, {once: true});
        request.on("error", (error) => fail(signal?.aborted === true ? new RequestAborted() : networkError(endpoint, error)));
        request.on("response", (response) => {
            if (settled) {
                response.destroy();
                return;
            }
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) {
                settled = true;
                clearTimeout(timer);
                // The abort listener stays until the body is read: aborting then destroys the stream.
                response.on("close", () => signal?.removeEventListener("abort", onAbort));
                resolve(response);
                return;
            }
            readBody(response, 1024 * 1024).then(
                (body) => fail(errorFromResponse(endpoint, status, body, response.headers)),
                (error: unknown) => fail(signal?.aborted === true ? new RequestAborted() : networkError(endpoint, error))
            );
        });
        request.end(payload);
    });
}

/** The whole body as text, up to `limit` bytes (more is cut: error pages can be large). */
export async function readBody(response: IncomingMessage, limit = 64 * 1024 * 1024): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
        if (size >= limit) continue;
        chunks.push(chunk);
        size += chunk.length;
    }
    return Buffer.concat(chunks).toString("utf8");
}
