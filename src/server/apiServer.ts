import type {Server} from "node:http";
import type {ServingModel} from "../engine/index.js";
import type {FileIdentity} from "../gguf/fileIdentity.js";
import {anthropicPrefix, anthropicRoutes} from "./anthropic/routes.js";
import {sendAnthropicError} from "./anthropic/errorShape.js";
import {coreRoutes} from "./core/coreRoutes.js";
import {corsPolicy} from "./core/cors.js";
import {createHttpServer} from "./core/httpServer.js";
import {createServerCore} from "./core/serverCore.js";
import {sendOpenAiError} from "./openai/errorShape.js";
import {openAiRoutes} from "./openai/routes.js";
import {sendOllamaError} from "./ollama/errorShape.js";
import {ollamaPrefix, ollamaRoutes} from "./ollama/routes.js";

export type ApiServerOptions = {
    /** The model file's id (its name without .gguf): what `GET /v1/models` lists unless there is an alias. */
    modelId: string,
    /** What `GET /v1/models` lists instead of the file's id (--alias). Requests naming any model are answered either way. */
    alias?: string,
    /** Required as `Authorization: Bearer <key>` on every route but /health. */
    apiKey?: string,
    /** One line for the server's log (stderr); never given a key or a request body. */
    log(line: string): void,
    /** Streamed text is written at most this often (ms), several tokens a write when they come faster; 0: every token. */
    streamIntervalMs?: number,
    /** Origins of web pages allowed to call the API besides this machine's (--cors; `*` for all). */
    corsOrigins?: readonly string[],
    /** How long a client may take to send a request, headers and body (--body-timeout). */
    bodyTimeoutMs?: number,
    /** A request found the model file changed on disk since the load (the server should stop; see ServerCore.model). */
    onModelFileChanged?(message: string): void
};

export type ApiServer = {
    server: Server,
    /**
     * The model is loaded: requests are served from now on (before, they get 503), each after a
     * look at the model file, which must still be `modelFile` (as it was before the load).
     */
    setEngine(engine: ServingModel, modelFile?: FileIdentity): void,
    /**
     * Refuses new connections and requests (503) from now on and closes connections whose request
     * has not arrived whole; running ones go on until the engine ends them.
     */
    stopAccepting(): void
};

/**
 * The HTTP API: one core (transport, key, /health, /metrics, the serving model) and the route rows
 * of each dialect (OpenAI's, Ollama's, Anthropic's), which translate their requests into neutral
 * ones and render the core's events. A path no row claims is answered in the shape of the dialect
 * whose prefix it has (/api/ Ollama's, /v1/messages Anthropic's), else OpenAI's, as llama-server does.
 */
export function createApiServer(options: ApiServerOptions): ApiServer {
    const core = createServerCore(options);
    const routes = [...coreRoutes(core), ...openAiRoutes(core), ...ollamaRoutes(core), ...anthropicRoutes(core)];
    const {server, closeUnfinishedRequests} = createHttpServer(core, routes, {
        apiKey: options.apiKey,
        errors: sendOpenAiError,
        errorsByPrefix: [{prefix: ollamaPrefix, errors: sendOllamaError}, {prefix: anthropicPrefix, errors: sendAnthropicError}],
        cors: corsPolicy(options.corsOrigins),
        bodyTimeoutMs: options.bodyTimeoutMs
    });
    return {
        server,
        setEngine: core.setEngine,
        stopAccepting() {
            core.stopAccepting();
            server.close();
            server.closeIdleConnections();
            closeUnfinishedRequests();
        }
    };
}
