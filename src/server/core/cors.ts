import type {IncomingMessage, ServerResponse} from "node:http";
import {HttpError} from "./httpError.js";

/**
 * Which web pages may call the API from a browser. As Ollama (envconfig.AllowedOrigins), pages
 * served from this machine (localhost, 127.0.0.1, [::1], 0.0.0.0, any port) and the schemes of
 * desktop and editor shells (app://, tauri://, vscode-webview://, …) are allowed by default, and
 * `--cors <origin>` adds others: an exact origin, one ending in `*` (a prefix: `http://host:*`),
 * or `*` for every page. A request from any other page is refused with 403: a browser would hide
 * the answer from the page, but a "simple" POST (text/plain, no preflight) would still run, so
 * refusing it is what keeps a web page from using the model behind the user's back.
 */
export type CorsPolicy = {
    /** Whether a page of this origin may call the API. */
    allows(origin: string): boolean,
    /** `--cors '*'`: every origin, answered with `Access-Control-Allow-Origin: *`. */
    readonly any: boolean
};

const loopbackHosts = ["localhost", "127.0.0.1", "[::1]", "0.0.0.0"];
const shellSchemes = ["app:", "file:", "tauri:", "vscode-webview:", "vscode-file:"];

export function corsPolicy(extraOrigins: readonly string[] = []): CorsPolicy {
    const any = extraOrigins.includes("*");
    const exact = new Set<string>();
    const prefixes: string[] = [];
    for (const origin of extraOrigins) {
        if (origin === "*") continue;
        const normalized = normalizeOrigin(origin);
        if (normalized.endsWith("*")) prefixes.push(normalized.slice(0, -1));
        else exact.add(normalized);
    }
    return {
        any,
        allows(origin) {
            if (any) return true;
            const normalized = normalizeOrigin(origin);
            return isDefaultOrigin(normalized) || exact.has(normalized) || prefixes.some((prefix) => normalized.startsWith(prefix));
        }
    };
}

function normalizeOrigin(origin: string): string {
    return origin.trim().toLowerCase().replace(/\/+$/, "");
}

function isDefaultOrigin(origin: string): boolean {
    let url: URL;
    try {
        url = new URL(origin);
    } catch {
        return false;
    }
    if (shellSchemes.includes(url.protocol)) return true;
    return (url.protocol === "http:" || url.protocol === "https:") && loopbackHosts.includes(url.hostname);
}

/** The headers allowed when a preflight names none (the clients' own); one that names some gets them echoed. */
const defaultAllowedHeaders = "Authorization, Content-Type, X-Api-Key, Anthropic-Version, Anthropic-Beta, OpenAI-Organization, OpenAI-Project";

/**
 * The browser's side of a request: without an `Origin` header (curl, SDKs outside a browser) nothing
 * changes. From an allowed page the answer carries `Access-Control-Allow-Origin`, and a preflight
 * (`OPTIONS` with `Access-Control-Request-Method`) is answered here, 204, before routing and without
 * the API key (browsers never send credentials with it). Returns true when the request was answered.
 * From any other page: 403, thrown for the dialect of the path to shape.
 */
export function answerCors(policy: CorsPolicy, request: IncomingMessage, response: ServerResponse): boolean {
    const origin = request.headers.origin;
    if (origin == null) return false;
    if (!policy.allows(origin))
        throw new HttpError(403, `Pages from ${origin} may not call this API: start the server with --cors ${origin} to allow them.`, {code: "origin_not_allowed"});
    response.setHeader("Access-Control-Allow-Origin", policy.any ? "*" : origin);
    if (!policy.any) response.setHeader("Vary", "Origin");
    const preflight = request.method === "OPTIONS" && request.headers["access-control-request-method"] != null;
    if (!preflight) return false;
    response.writeHead(204, {
        "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": request.headers["access-control-request-headers"] ?? defaultAllowedHeaders,
        "Access-Control-Max-Age": "86400",
        // Chrome asks before a public page may reach a private address (this server on loopback or a LAN).
        ...(request.headers["access-control-request-private-network"] === "true" ? {"Access-Control-Allow-Private-Network": "true"} : {})
    });
    response.end();
    return true;
}
