import {createServer, type IncomingMessage, type Server, type ServerResponse} from "node:http";
import type {Duplex} from "node:stream";
import {apiKeyChecker} from "./apiKey.js";
import {answerCors, corsPolicy, type CorsPolicy} from "./cors.js";
import {toHttpError} from "./engineErrors.js";
import {HttpError} from "./httpError.js";
import {RouteTable, routePath, type ErrorShape, type Route, type RouteMatch} from "./routeTable.js";
import type {ServerCore} from "./serverCore.js";
import {maxBodyBytes} from "./readJsonBody.js";
import {defaultBodyTimeoutMs} from "./bodyTimeout.js";

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
    cors?: CorsPolicy,
    /** How long a client may take to send a whole request, headers and body (--body-timeout); defaultBodyTimeoutMs when not given. */
    bodyTimeoutMs?: number
};

export type HttpServer = {
    server: Server,
    /**
     * Closes the connections whose request has not fully arrived (partial headers, a body still
     * coming or never coming): at shutdown they would otherwise hold the drain for its whole time.
     * Connections whose request was read are left to finish their answer.
     */
    closeUnfinishedRequests(): void
};

/**
 * The transport under every dialect: routes a request through the table, checks the key, and is the
 * one place that turns a handler's exception into an error answer, in the shape of the route's
 * dialect. Nothing a client sends can crash the process or show a stack trace.
 */
export function createHttpServer(core: ServerCore, routes: readonly Route[], options: HttpServerOptions): HttpServer {
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

    const bodyTimeoutMs = options.bodyTimeoutMs ?? defaultBodyTimeoutMs;
    // Node's own request timeout: from a request's first byte until its body has arrived (a long
    // answer after that is not limited). Node looks for expired requests every interval.
    const server = createServer({
        requestTimeout: bodyTimeoutMs,
        headersTimeout: Math.min(65_000, bodyTimeoutMs),
        connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.round(bodyTimeoutMs / 4)))
    }, (request, response) => {
        const path = routePath(request.url);
        const match = table.match(path);
        connections.answering(request, response);
        // By pattern (/v1/models/:id), so that the metric's label values stay few.
        response.on("finish", () => core.requests.add(match?.pattern ?? "other", response.statusCode));
        handle(request, response, path, match).catch(async (error: unknown) => {
            const httpError = toHttpError(error);
            if (!(error instanceof HttpError)) core.logFailure(error);
            // A refusal before the body was read (413, 401, 404…): answered while the client still
            // sends, the connection of a `Connection: close` client would be closed under it, and it
            // would see a reset (EPIPE) instead of the answer. The body is read and dropped first.
            if (!await bodyDrained(request, drainLimitBytes) && !response.headersSent) response.setHeader("Connection", "close");
            errorsOf(path, match)(response, httpError);
        });
    });
    const connections = new ConnectionWatch(server);
    // Malformed HTTP (400) or a request that did not arrive in time (408): answered, unless an answer
    // has begun on the connection, and the connection closed.
    server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
        const status = error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
        if (socket.writable && !connections.answerStarted(socket))
            socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
        else socket.destroy();
    });
    // An idle keep-alive connection stays open a minute: clients (undici, the openai SDK) read the
    // `Keep-Alive: timeout` hint and close theirs first, so a new request never races the server's
    // close (with Node's 5 s default, a loaded machine made that race common: "other side closed").
    server.keepAliveTimeout = 60_000;
    return {server, closeUnfinishedRequests: () => connections.closeUnfinished()};
}

/**
 * A refused request's body is read and dropped up to this many bytes (8 × the 4 MB limit) before
 * the refusal is sent; a longer one gets its answer at once and its connection closed.
 */
const drainLimitBytes = 8 * maxBodyBytes;

/** Reads the rest of the request's body and drops it; false when it is longer than `limit` bytes or cut. */
function bodyDrained(request: IncomingMessage, limit: number): Promise<boolean> {
    if (request.complete) return Promise.resolve(true);
    const declared = Number(request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) return Promise.resolve(false);
    return new Promise((resolve) => {
        let size = 0;
        const done = (drained: boolean) => {
            request.off("data", count);
            request.off("end", ended);
            request.off("close", closed);
            resolve(drained);
        };
        const count = (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) done(false);
        };
        const ended = () => done(true);
        const closed = () => done(request.complete);
        request.on("data", count);
        request.once("end", ended);
        request.once("close", closed);
        request.resume();
    });
}

/** The server's connections, and the request each one is being answered for. */
class ConnectionWatch {
    private readonly sockets = new Set<Duplex>();
    private readonly current = new Map<Duplex, {request: IncomingMessage, response: ServerResponse}>();

    constructor(server: Server) {
        server.on("connection", (socket: Duplex) => {
            this.sockets.add(socket);
            socket.once("close", () => {
                this.sockets.delete(socket);
                this.current.delete(socket);
            });
        });
    }

    answering(request: IncomingMessage, response: ServerResponse) {
        const socket = request.socket;
        this.current.set(socket, {request, response});
        response.once("close", () => {
            if (this.current.get(socket)?.response === response) this.current.delete(socket);
        });
    }

    answerStarted(socket: Duplex): boolean {
        return this.current.get(socket)?.response.headersSent === true;
    }

    /** Destroys every connection but those answering a request that arrived whole (see HttpServer). */
    closeUnfinished() {
        for (const socket of this.sockets) {
            const request = this.current.get(socket)?.request;
            if (request == null || !request.complete) socket.destroy();
        }
    }
}

/** Aborts when the response closes before it was finished: the client went away. */
function clientGone(response: ServerResponse): AbortSignal {
    const gone = new AbortController();
    response.on("close", () => {
        if (!response.writableFinished) gone.abort();
    });
    return gone.signal;
}
