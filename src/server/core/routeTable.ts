import type {IncomingMessage, ServerResponse} from "node:http";
import type {HttpError} from "./httpError.js";

export type RouteContext = {
    request: IncomingMessage,
    response: ServerResponse,
    /** The request's path, without query or trailing slash. */
    path: string,
    /** The path's parameters by name (`:id` in `/v1/models/:id`), URL-decoded. */
    params: Readonly<Record<string, string>>,
    /** Aborts when the client goes away before its answer is finished. */
    signal: AbortSignal
};

/** How a dialect answers an error (its status, its headers, its body). */
export type ErrorShape = (response: ServerResponse, error: HttpError) => void;

/** One row of the route table, as llama-server's `ctx_http.post("/v1/chat/completions", …)`. */
export type Route = {
    method: "GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "OPTIONS",
    /** `/v1/models`, or with parameters, each one whole segment: `/v1/models/:id`. */
    path: string,
    handler(context: RouteContext): Promise<void> | void,
    /** Answered without the API key (/health). */
    public?: boolean,
    /** How the errors of this path are answered; the server's default shape (OpenAI's) when not given. */
    errors?: ErrorShape
};

/** The rows of one path pattern (one a method), and the parameters the path gave. */
export type RouteMatch = {pattern: string, routes: readonly Route[], params: Record<string, string>};

type Pattern = {pattern: string, segments: string[], routes: Route[]};

/**
 * Routes by path, then method: a path no row has is the caller's 404, a path whose rows take other
 * methods its 405 (with `Allow`). A literal pattern wins over one with parameters; otherwise rows
 * are tried in the order given.
 */
export class RouteTable {
    private readonly literal = new Map<string, Pattern>();
    private readonly parametric: Pattern[] = [];

    constructor(routes: readonly Route[]) {
        const byPattern = new Map<string, Pattern>();
        for (const route of routes) {
            let entry = byPattern.get(route.path);
            if (entry == null) {
                entry = {pattern: route.path, segments: route.path.split("/"), routes: []};
                byPattern.set(route.path, entry);
                if (entry.segments.some(isParameter)) this.parametric.push(entry);
                else this.literal.set(route.path, entry);
            }
            if (entry.routes.some((other) => other.method === route.method))
                throw new Error(`Two routes for ${route.method} ${route.path}.`);
            entry.routes.push(route);
        }
    }

    /** The rows whose pattern matches `path`, or undefined (404). */
    match(path: string): RouteMatch | undefined {
        const literal = this.literal.get(path);
        if (literal != null) return {pattern: literal.pattern, routes: literal.routes, params: {}};
        const segments = path.split("/");
        for (const entry of this.parametric) {
            const params = matchSegments(entry.segments, segments);
            if (params != null) return {pattern: entry.pattern, routes: entry.routes, params};
        }
        return undefined;
    }
}

/** The request's path without the query string or a trailing slash. */
export function routePath(url: string | undefined): string {
    const path = (url ?? "/").split("?")[0]!;
    return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

function isParameter(segment: string): boolean {
    return segment.startsWith(":");
}

function matchSegments(pattern: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
    if (pattern.length !== segments.length) return undefined;
    const params: Record<string, string> = {};
    for (const [index, expected] of pattern.entries()) {
        const segment = segments[index]!;
        if (!isParameter(expected)) {
            if (segment !== expected) return undefined;
            continue;
        }
        if (segment === "") return undefined;
        params[expected.slice(1)] = decodeSegment(segment);
    }
    return params;
}

/** `%2F` and the like decoded (the openai client encodes a model id); a malformed escape is kept as sent. */
function decodeSegment(segment: string): string {
    try {
        return decodeURIComponent(segment);
    } catch {
        return segment;
    }
}
