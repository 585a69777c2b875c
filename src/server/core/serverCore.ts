import type {SchedulerResult, SchedulerStats} from "../../engine/index.js";
import type {ServingModel} from "../../engine/index.js";
import {toHttpError} from "./engineErrors.js";
import {HttpError, loadingError, shuttingDownError} from "./httpError.js";
import {RequestCounter} from "./metrics.js";
import type {GenerationEvent, LoadedModel, NeutralRequest} from "./neutral.js";

export type ServerCoreOptions = {
    /** The id of the model file (its name without .gguf). */
    modelId: string,
    /** The name to list instead of `modelId` (--alias). */
    alias?: string,
    /** One line for the server's log (stderr); never given a key or a request body. */
    log(line: string): void,
    /** Streamed text is written at most this often (ms); 0: every token. */
    streamIntervalMs?: number
};

/** What every dialect's handlers get: the model, its names, and the server's state. */
export type ServerCore = {
    /** The name `GET /v1/models` lists and answers carry when a request names no model: --alias, else the file's id. */
    readonly modelId: string,
    /** Whether `name` is this server's model: the listed name or the file's id, in any case, with or without .gguf. */
    isModelName(name: string): boolean,
    /** When the server started (Unix seconds): the model object's `created`. */
    readonly created: number,
    /** Milliseconds between writes of a stream (--stream-interval). */
    readonly streamIntervalMs: number,
    /** The model to generate with; 503 while it loads or once the server stops accepting requests. */
    model(): LoadedModel,
    /** The model is loaded (/health). */
    readonly loaded: boolean,
    /** The scheduler's counters, once the model is loaded (/metrics). */
    readonly stats: SchedulerStats | undefined,
    /** Answered HTTP requests by route and status (/metrics). */
    readonly requests: RequestCounter,
    /** Logs why a request failed (the message only). */
    logFailure(error: unknown): void
};

export type ServerCoreControl = ServerCore & {
    setEngine(engine: ServingModel): void,
    stopAccepting(): void
};

export function createServerCore(options: ServerCoreOptions): ServerCoreControl {
    let engine: ServingModel | undefined;
    let accepting = true;
    const modelId = options.alias ?? options.modelId;
    const names = [modelId, options.modelId];
    const logFailure = (error: unknown) => options.log(`request failed: ${error instanceof Error ? error.message : String(error)}`);

    const loadedModel = (serving: ServingModel): LoadedModel => ({
        contextSize: serving.contextSize,
        countChatTokens: (conversation) => serving.countChatTokens(conversation),
        path: serving.path,
        backend: serving.backend,
        generate: (request, signal, onEvent) => generate(serving, request, signal, onEvent, logFailure)
    });

    return {
        modelId,
        isModelName: (name) => names.some((known) => matchesModel(name, known)),
        created: Math.floor(Date.now() / 1000),
        streamIntervalMs: options.streamIntervalMs ?? 0,
        model() {
            if (!accepting) throw shuttingDownError();
            if (engine == null) throw loadingError();
            return loadedModel(engine);
        },
        get loaded() {
            return engine != null;
        },
        get stats() {
            return engine?.stats;
        },
        requests: new RequestCounter(),
        logFailure,
        setEngine(loaded) {
            engine = loaded;
        },
        stopAccepting() {
            accepting = false;
        }
    };
}

async function generate(
    engine: ServingModel, request: NeutralRequest, signal: AbortSignal, onEvent: (event: GenerationEvent) => void,
    logFailure: (error: unknown) => void
): Promise<void> {
    let started = false;
    const onText = request.stream
        ? (text: string) => {
            started = true;
            onEvent({type: "text", text});
        }
        : undefined;
    let result: SchedulerResult;
    try {
        const callbacks = {signal, onText};
        result = request.kind === "chat"
            ? await engine.chat(request.conversation, request.sampling, callbacks)
            : await engine.complete(request.prompt, request.sampling, callbacks);
    } catch (error) {
        const httpError = toHttpError(error, request.kind === "chat" ? "messages" : "prompt");
        // Before any text the status can still be sent: the caller answers with it.
        if (!started) {
            if (!(error instanceof HttpError)) logFailure(error);
            throw httpError;
        }
        if (httpError.status >= 500) logFailure(error);
        onEvent({type: "error", error: httpError});
        return;
    }
    if (signal.aborted) return;
    onEvent({
        type: "done", text: result.text, stopReason: result.stopReason,
        usage: {prompt: result.tokens.prompt, generated: result.tokens.generated, cached: result.cachedPromptTokens},
        timings: {queuedMs: result.queuedMs, promptMs: result.timings.promptMs, generateMs: result.timings.generateMs},
        ...(result.stopSequence != null ? {stopSequence: result.stopSequence} : {})
    });
}

/** The id, the file name (with .gguf) or the id's case variants all name this model. */
function matchesModel(requested: string, modelId: string): boolean {
    const name = requested.trim().toLowerCase();
    return name === modelId.toLowerCase() || name === `${modelId.toLowerCase()}.gguf`;
}
