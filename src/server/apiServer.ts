import {createServer, type IncomingMessage, type Server, type ServerResponse} from "node:http";
import type {ServingModel} from "../engine/servingModel.js";
import {ApiError} from "./core/apiError.js";
import {apiKeyChecker} from "./core/apiKey.js";
import {answerCompletion, toApiError} from "./openai/completions.js";
import {RequestCounter, renderMetrics} from "./core/metrics.js";
import {parseChatRequest, parseCompletionRequest} from "./openai/parseRequest.js";
import {readJsonBody} from "./core/readJsonBody.js";
import {sendError, sendJson} from "./core/respond.js";

export type ApiServerOptions = {
    /** The id `GET /v1/models` lists; requests naming another model get 404. */
    modelId: string,
    /** Required as `Authorization: Bearer <key>` on every route but /health. */
    apiKey?: string,
    /** One line for the server's log (stderr); never given a key or a request body. */
    log(line: string): void,
    /** Streamed text is written at most this often (ms), several tokens a write when they come faster; 0: every token. */
    streamIntervalMs?: number
};

export type ApiServer = {
    server: Server,
    /** The model is loaded: requests are served from now on (before, they get 503). */
    setEngine(engine: ServingModel): void,
    /** Refuses new connections and requests (503) from now on; running ones go on until the engine ends them. */
    stopAccepting(): void
};

const routes: Record<string, readonly string[]> = {
    "/health": ["GET"],
    "/metrics": ["GET"],
    "/v1/models": ["GET"],
    "/v1/chat/completions": ["POST"],
    "/v1/completions": ["POST"]
};

/**
 * The OpenAI-compatible HTTP API on node:http. Every failure becomes an OpenAI-shaped error with its
 * status; nothing a client sends can crash the process or show a stack trace.
 */
export function createApiServer(options: ApiServerOptions): ApiServer {
    const checkKey = options.apiKey == null ? undefined : apiKeyChecker(options.apiKey);
    const requests = new RequestCounter();
    let engine: ServingModel | undefined;
    let accepting = true;
    const created = Math.floor(Date.now() / 1000);

    const logFailure = (error: unknown) => options.log(`request failed: ${error instanceof Error ? error.message : String(error)}`);

    async function handle(request: IncomingMessage, response: ServerResponse, path: string) {
        const methods = routes[path];
        if (methods == null) throw new ApiError(404, `Unknown route ${request.method} ${path}.`, {code: "unknown_url"});
        if (!methods.includes(request.method ?? ""))
            throw new ApiError(405, `${path} takes ${methods.join(", ")}, not ${request.method}.`, {code: "method_not_allowed", headers: {Allow: methods.join(", ")}});
        if (path === "/health") {
            if (engine == null) throw new ApiError(503, "The model is loading.", {code: "loading", headers: {"Retry-After": "1"}});
            return sendJson(response, 200, {status: "ok"});
        }
        if (checkKey != null && !checkKey(request.headers.authorization))
            throw new ApiError(401, "Incorrect or missing API key: send it as `Authorization: Bearer <key>`.", {code: "invalid_api_key"});
        if (path === "/metrics") {
            const text = renderMetrics(requests, engine?.stats, process.memoryUsage());
            response.writeHead(200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"});
            return response.end(text);
        }
        if (path === "/v1/models")
            return sendJson(response, 200, {object: "list", data: [{id: options.modelId, object: "model", created, owned_by: "mixtral"}]});

        const body = await readJsonBody(request);
        if (!accepting) throw new ApiError(503, "The server is shutting down.", {code: "shutting_down", headers: {"Retry-After": "5"}});
        if (engine == null) throw new ApiError(503, "The model is loading.", {code: "loading", headers: {"Retry-After": "1"}});
        const parsed = path === "/v1/chat/completions" ? parseChatRequest(body, engine.contextSize) : parseCompletionRequest(body, engine.contextSize);
        if (parsed.model != null && !matchesModel(parsed.model, options.modelId))
            throw new ApiError(404, `The model \`${parsed.model}\` does not exist; this server has \`${options.modelId}\`.`, {param: "model", code: "model_not_found"});
        await answerCompletion(response, parsed, engine, options.modelId, logFailure, options.streamIntervalMs);
    }

    const server = createServer((request, response) => {
        const path = routePath(request.url);
        response.on("finish", () => requests.add(routes[path] == null ? "other" : path, response.statusCode));
        handle(request, response, path).catch((error: unknown) => {
            const apiError = toApiError(error, path === "/v1/completions" ? "prompt" : "messages");
            if (!(error instanceof ApiError)) logFailure(error);
            if (apiError.status === 413) {
                // The rest of the body is read and discarded (closing now would reset the connection under a
                // client still sending, and it would miss the 413); one that keeps sending is cut off after a while.
                response.on("finish", () => {
                    if (request.complete) return;
                    const timer = setTimeout(() => request.socket.destroy(), 5000).unref();
                    request.once("end", () => clearTimeout(timer));
                });
            }
            sendError(response, apiError);
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

    return {
        server,
        setEngine(loaded) {
            engine = loaded;
        },
        stopAccepting() {
            accepting = false;
            server.close();
            server.closeIdleConnections();
        }
    };
}

function routePath(url: string | undefined): string {
    const path = (url ?? "/").split("?")[0]!;
    return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

/** The id, the file name (with .gguf) or the id's case variants all name this model. */
function matchesModel(requested: string, modelId: string): boolean {
    const name = requested.trim().toLowerCase();
    return name === modelId.toLowerCase() || name === `${modelId.toLowerCase()}.gguf`;
}
