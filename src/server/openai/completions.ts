import {randomBytes} from "node:crypto";
import type {ServerResponse} from "node:http";
import {QueueFullError, SchedulerClosedError, type SchedulerResult} from "../../engine/batchScheduler.js";
import type {ServingModel} from "../../engine/servingModel.js";
import type {StopReason} from "../../engine/types.js";
import {UsageError} from "../../errors.js";
import {ApiError} from "../core/apiError.js";
import type {ParsedRequest} from "./parseRequest.js";
import {EventStream, sendJson} from "../core/respond.js";

/**
 * Runs one chat or text completion on the engine and answers it as OpenAI does: one JSON object,
 * or (stream) SSE chunks ending with a finish_reason chunk, the usage chunk when asked, and
 * `data: [DONE]`. A client that goes away aborts its generation, which frees its sequence.
 */
export async function answerCompletion(
    response: ServerResponse, parsed: ParsedRequest, engine: ServingModel, modelId: string, logFailure: (error: unknown) => void,
    streamIntervalMs = 0
): Promise<void> {
    const chat = parsed.kind === "chat";
    const id = `${chat ? "chatcmpl" : "cmpl"}-${randomBytes(12).toString("hex")}`;
    const created = Math.floor(Date.now() / 1000);
    const object = chat ? "chat.completion.chunk" : "text_completion";
    const chunk = (choice: Record<string, unknown>) => ({id, object, created, model: modelId, choices: [{index: 0, ...choice, logprobs: null}]});
    const delta = (text: string) => chunk(chat ? {delta: {content: text}, finish_reason: null} : {text, finish_reason: null});

    const disconnected = new AbortController();
    response.on("close", () => {
        if (!response.writableFinished) disconnected.abort();
    });

    // The stream opens with the first text, so that a refused request (queue full, prompt too long)
    // still gets its HTTP status.
    let stream: EventStream | undefined;
    const openStream = () => {
        if (stream != null) return stream;
        stream = new EventStream(response, streamIntervalMs);
        if (chat) stream.send(chunk({delta: {role: "assistant", content: ""}, finish_reason: null}), {opening: true});
        return stream;
    };
    const onText = parsed.stream ? (text: string) => openStream().send(delta(text)) : undefined;

    let result: SchedulerResult;
    try {
        const callbacks = {signal: disconnected.signal, onText};
        result = parsed.kind === "chat"
            ? await engine.chat(parsed.conversation, parsed.sampling, callbacks)
            : await engine.complete(parsed.prompt, parsed.sampling, callbacks);
    } catch (error) {
        // Before the stream opened, the caller answers with the error's status.
        if (stream == null) throw error;
        const apiError = toApiError(error, parsed.kind === "chat" ? "messages" : "prompt");
        if (apiError.status >= 500) logFailure(error);
        stream.fail(apiError);
        return;
    }
    if (disconnected.signal.aborted) return;

    const finishReason = finishReasonOf(result.stopReason);
    const usage = {
        prompt_tokens: result.tokens.prompt,
        completion_tokens: result.tokens.generated,
        total_tokens: result.tokens.prompt + result.tokens.generated,
        prompt_tokens_details: {cached_tokens: result.cachedPromptTokens}
    };
    if (parsed.stream) {
        const events = openStream();
        events.send(chunk(chat ? {delta: {}, finish_reason: finishReason} : {text: "", finish_reason: finishReason}));
        if (parsed.includeUsage) events.send({id, object, created, model: modelId, choices: [], usage});
        events.end();
        return;
    }
    const choice = chat
        ? {index: 0, message: {role: "assistant", content: result.text, refusal: null}, logprobs: null, finish_reason: finishReason}
        : {index: 0, text: result.text, logprobs: null, finish_reason: finishReason};
    sendJson(response, 200, {id, object: chat ? "chat.completion" : "text_completion", created, model: modelId, choices: [choice], usage});
}

/**
 * eos and stop strings are "stop"; max_tokens and a full context are "length". An answer cut short
 * by the server's shutdown is "length" too: the client should not take it for a complete answer.
 */
function finishReasonOf(reason: StopReason): "stop" | "length" {
    return reason === "eos" || reason === "stop" ? "stop" : "length";
}

/** An engine error as the API reports it; anything unexpected is a 500 whose details stay in the server's log. */
export function toApiError(error: unknown, promptParam: string): ApiError {
    if (error instanceof ApiError) return error;
    if (error instanceof QueueFullError)
        return new ApiError(503, `The server is busy: ${error.message} Retry shortly.`, {code: "server_busy", headers: {"Retry-After": "1"}});
    if (error instanceof SchedulerClosedError)
        return new ApiError(503, "The server is shutting down.", {code: "shutting_down", headers: {"Retry-After": "5"}});
    if (error instanceof UsageError)
        return new ApiError(400, error.message, {code: "context_length_exceeded", param: promptParam});
    return new ApiError(500, "The model failed to generate an answer.", {code: "internal_error"});
}
