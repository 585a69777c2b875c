import {SchedulerClosedError, type SchedulerResult, type SchedulerStats} from "../../engine/index.js";
import type {ServingModel} from "../../engine/index.js";
import {toHttpError} from "./engineErrors.js";
import {HttpError, loadingError, shuttingDownError} from "./httpError.js";
import {RequestCounter} from "./metrics.js";
import type {GenerationEvent, LoadedModel, NeutralRequest} from "./neutral.js";
import {planToolUse, toolPrompt} from "./tools/toolPlan.js";
import type {ToolReader} from "./tools/toolAnswerReader.js";
import type {ToolCall} from "../../generator/chatMessages.js";
import {currentFileIdentity, describeFileChange, sameFile, type FileIdentity} from "../../gguf/fileIdentity.js";
import type {TokenLogprob} from "../../generator/result.js";

export type ServerCoreOptions = {
    /** The id of the model file (its name without .gguf). */
    modelId: string,
    /** The name to list instead of `modelId` (--alias). */
    alias?: string,
    /** One line for the server's log (stderr); never given a key or a request body. */
    log(line: string): void,
    /** Streamed text is written at most this often (ms); 0: every token. */
    streamIntervalMs?: number,
    /**
     * Called once when a request finds the model file changed on disk since it was loaded (see
     * `model()`), with a sentence saying how: the server should stop.
     */
    onModelFileChanged?(message: string): void
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
    /**
     * The model to generate with; 503 while it loads, once the server stops accepting requests, or
     * when the model file changed on disk since it was loaded: llama.cpp maps the file, so a file
     * truncated under the server would crash it (SIGBUS) in the middle of a request, and a file
     * replaced would leave it answering with weights that are no longer on disk.
     */
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
    /** The model is loaded; `modelFile` is its file as it was before the load, checked before each request. */
    setEngine(engine: ServingModel, modelFile?: FileIdentity): void,
    stopAccepting(): void
};

export function createServerCore(options: ServerCoreOptions): ServerCoreControl {
    let engine: ServingModel | undefined;
    let loadedFile: FileIdentity | undefined;
    let fileChanged: HttpError | undefined;
    let accepting = true;
    const modelId = options.alias ?? options.modelId;
    const names = [modelId, options.modelId];
    const logFailure = (error: unknown) => options.log(`request failed: ${error instanceof Error ? error.message : String(error)}`);

    const loadedModel = (serving: ServingModel): LoadedModel => ({
        contextSize: serving.contextSize,
        // Counted as the chat request would prompt it: the offered tools described, calls and results rendered as text.
        countChatTokens: (request) => {
            const prompt = toolPrompt(request, serving.toolSyntax);
            return serving.countChatTokens(prompt.conversation, prompt.tools);
        },
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
            if (fileChanged != null) throw fileChanged;
            if (!accepting) throw shuttingDownError();
            if (engine == null) throw loadingError();
            if (loadedFile != null) {
                const now = currentFileIdentity(engine.path);
                if (now == null || !sameFile(loadedFile, now)) {
                    const how = describeFileChange(loadedFile, now);
                    fileChanged = new HttpError(503, `The model file changed on disk after the server loaded it (${how}): the server is stopping.`, {code: "model_file_changed"});
                    options.onModelFileChanged?.(`${engine.path} changed on disk while the server ran (${how})`);
                    throw fileChanged;
                }
            }
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
        setEngine(loaded, modelFile) {
            engine = loaded;
            loadedFile = modelFile;
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
    let result: SchedulerResult;
    let reader: ToolReader | undefined;
    const emit = (event: GenerationEvent) => {
        started = true;
        onEvent(event);
    };
    try {
        if (request.kind === "chat") {
            // Tools become prompt text and a grammar here; the answer's JSON is read back below.
            const plan = planToolUse(request, engine.toolSyntax);
            reader = plan.reader;
            result = await engine.chat(plan.conversation, plan.sampling, {signal, ...streamCallbacks(request, reader, emit)}, plan.tools);
        } else result = await engine.complete(request.prompt, request.sampling, {signal, ...streamCallbacks(request, undefined, emit)});
    } catch (error) {
        const httpError = toHttpError(error, request.kind === "chat" ? "messages" : "prompt");
        // The shutdown says so once in the log; each request it ends is not a failure to log.
        const logged = !(error instanceof SchedulerClosedError);
        // Before any text the status can still be sent: the caller answers with it.
        if (!started) {
            if (!(error instanceof HttpError) && logged) logFailure(error);
            throw httpError;
        }
        if (httpError.status >= 500 && logged) logFailure(error);
        onEvent({type: "error", error: httpError});
        return;
    }
    if (signal.aborted) return;
    let answer = {text: result.text, toolCalls: [] as ToolCall[]};
    if (reader != null) {
        // Streamed, the reader has read the answer piece by piece (calls were sent as they closed).
        if (!request.stream) reader.push(result.text);
        answer = reader.finish();
    }
    // Calls that the answer ended on; calls before a cut (max tokens) leave the reason "length".
    const ended = result.stopReason === "eos" || result.stopReason === "stop";
    onEvent({
        type: "done", ...answer, stopReason: answer.toolCalls.length > 0 && ended ? "toolCalls" : result.stopReason,
        usage: {prompt: result.tokens.prompt, generated: result.tokens.generated, cached: result.cachedPromptTokens},
        timings: {queuedMs: result.queuedMs, promptMs: result.timings.promptMs, generateMs: result.timings.generateMs},
        ...(result.stopSequence != null ? {stopSequence: result.stopSequence} : {}),
        ...(result.logprobs == null ? {} : {logprobs: result.logprobs})
    });
}

/**
 * A streamed request's engine callbacks: text as `text` events, each with the logprobs of the
 * tokens that made it (they come before their text). An answer read by a tool reader streams its
 * text part, without logprobs (those are of the JSON around it; `done` has them all), and each
 * call as a `toolCall` event once its JSON closes.
 */
function streamCallbacks(request: NeutralRequest, reader: ToolReader | undefined, emit: (event: GenerationEvent) => void) {
    if (!request.stream) return {};
    const pending: TokenLogprob[] = [];
    const onLogprob = request.sampling.logprobs != null && reader == null ? (entry: TokenLogprob) => pending.push(entry) : undefined;
    let calls = 0;
    const onText = (piece: string) => {
        if (reader == null) return emit({type: "text", text: piece, ...(pending.length > 0 ? {logprobs: pending.splice(0)} : {})});
        const read = reader.push(piece);
        if (read.text !== "") emit({type: "text", text: read.text});
        for (const call of read.calls) emit({type: "toolCall", index: calls++, call});
    };
    return {onText, onLogprob};
}

/** The id, the file name (with .gguf) or the id's case variants all name this model. */
function matchesModel(requested: string, modelId: string): boolean {
    const name = requested.trim().toLowerCase();
    return name === modelId.toLowerCase() || name === `${modelId.toLowerCase()}.gguf`;
}
