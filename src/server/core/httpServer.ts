import {createServer, type IncomingMessage, type Server, type ServerResponse} from "node:http";
import {apiKeyChecker} from "./apiKey.js";
import {answerCors, corsPolicy, type CorsPolicy} from "./cors.js";
import {toHttpError} from "./engineErrors.js";
import {HttpError} from "./httpError.js";
import {RouteTable, routePath, type ErrorShape, type Route, type RouteMatch} from "./routeTable.js";
import type {ServerCore} from "./serverCore.js";

export type HttpServerOptions = {
    /** Required as `Authorization: Bearer <key>` on every route but the public ones (/health). */
    apiKey?: string,
    /** How errors of paths no row claims (404) are answered, and of rows that give no shape. */
    errors: ErrorShape,
    /**
     * The shape of errors of paths no row claims, by the path's prefix (`/api/` is Ollama's), so a
     * client of each dialect reads a 404 it understands; the first prefix that matches wins.
     */
    errorsByPrefix?: readonly {prefix: string, errors: ErrorShape}[],
    /** Which web pages may call the API (--cors); loopback pages only when not given. */
    cors?: CorsPolicy
};

/**
 * The transport under every dialect: routes a request through the table, checks the key, and is the
 * one place that turns a handler's exception into an error answer, in the shape of the route's
 * dialect. Nothing a client sends can crash the process or show a stack trace.
 */
export function createHttpServer(core: ServerCore, routes: readonly Route[], options: HttpServerOptions): Server {
    const table = new RouteTable(routes);
    const checkKey = options.apiKey == null ? undefined : apiKeyChecker(options.apiKey);
    const cors = options.cors ?? corsPolicy();
    const errorsOf = (path: string, match: RouteMatch | undefined): ErrorShape =>
        match?.routes[0]?.errors ?? options.errorsByPrefix?.find((entry) => path.startsWith(entry.prefix))?.errors ?? options.errors;
    // The key as OpenAI's and Ollama's clients send it (Authorization: Bearer), or as Anthropic's (x-api-key).
    const keyAccepted = (request: IncomingMessage) => {
        if (checkKey == null) return true;
        const anthropicKey = request.headers["x-api-key"];
        return checkKey(request.headers.authorization) || (typeof anthropicKey === "string" && checkKey(`Bearer ${anthropicKey}`));
    };

    async function handle(request: IncomingMessage, response: ServerResponse, path: string, match: RouteMatch | undefined) {
        if (answerCors(cors, request, response)) return;
        if (match == null) throw new HttpError(404, `Unknown route ${request.method} ${path}.`, {code: "unknown_url"});
        const route = match.routes.find((row) => row.method === request.method);
        if (route == null) {
            const methods = match.routes.map((row) => row.method).join(", ");
            throw new HttpError(405, `${path} takes ${methods}, not ${request.method}.`, {code: "method_not_allowed", headers: {Allow: methods}});
        }
        if (route.public !== true && !keyAccepted(request))
            throw new HttpError(401, "Incorrect or missing API key: send it as `Authorization: Bearer <key>` (or `x-api-key: <key>`).", {code: "invalid_api_key"});
        await route.handler({request, response, path, params: match.params, signal: clientGone(response)});
    }

    const server = createServer((request, response) => {
        const path = routePath(request.url);
        const match = table.match(path);
        // By pattern (/v1/models/:id), so that the metric's label values stay few.
        response.on("finish", () => core.requests.add(match?.pattern ?? "other", response.statusCode));
        handle(request, response, path, match).catch((error: unknown) => {
            const httpError = toHttpError(error);
            if (!(error instanceof HttpError)) core.logFailure(error);
            if (httpError.status === 413) {
                // The rest of the body is read and discarded (closing now would reset the connection under a
                // client still sending, and it would miss the 413); one that keeps sending is cut off after a while.
                response.on("finish", () => {
                    if (request.complete) return;
                    const timer = setTimeout(() => request.socket.destroy(), 5000).unref();
                    request.once("end", () => clearTimeout(timer));
                });
            }
            errorsOf(path, match)(response, httpError);
        });
    });
    // Malformed HTTP: a plain 400, and the connection closed.
    server.on("clientError", (_error, socket) => {
        if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        else socket.destroy();
    });
    // An idle keep-alive connection stays open a minute: clients (undici, the openai SDK) read the
    // `Keep-Alive: timeout` hint and close theirs first, so a new request never races the server's
    // close (with Node's 5 s default, a loaded machine made that race common: "other side closed").
    server.keepAliveTimeout = 60_000;
    server.headersTimeout = 65_000;
    // Generations may take long; the socket's idle time is what matters, not the request's age.
    server.requestTimeout = 0;
    return server;
}

/** Aborts when the response closes before it was finished: the client went away. */
function clientGone(response: ServerResponse): AbortSignal {
    const gone = new AbortController();
    response.on("close", () => {
        if (!response.writableFinished) gone.abort();
    });
    return gone.signal;
}
