import {randomBytes} from "node:crypto";
import type {ServerResponse} from "node:http";
import type {StopReason} from "../../generator/result.js";
import type {GenerationEvent} from "../core/neutral.js";
import {readJsonBody} from "../core/readJsonBody.js";
import type {RouteContext} from "../core/routeTable.js";
import {sendJson} from "../core/sendJson.js";
import type {ServerCore} from "../core/serverCore.js";
import {EventStream} from "./eventStream.js";
import type {OpenAiRequest} from "./parseRequest.js";

/**
 * POST /v1/chat/completions and /v1/completions: the body parsed into a neutral request, served by
 * the core, and its events answered as OpenAI does: one JSON object, or (stream) SSE chunks ending
 * with a finish_reason chunk, the usage chunk when asked, and `data: [DONE]`.
 */
export async function answerCompletion(
    core: ServerCore, {request, response, signal}: RouteContext, parse: (body: unknown, contextSize: number) => OpenAiRequest
): Promise<void> {
    const body = await readJsonBody(request);
    const model = core.model();
    const parsed = parse(body, model.contextSize);
    // Any model name is answered by the loaded model, and echoed in the answer, as llama-server does.
    const modelName = parsed.model != null && parsed.model !== "" ? parsed.model : core.modelId;
    const render = completionRenderer(response, parsed, modelName, core.streamIntervalMs);
    await model.generate(parsed.request, signal, render);
}

/** Renders a completion's events: chunks as they come when streamed, else the whole answer at `done`. */
function completionRenderer(response: ServerResponse, parsed: OpenAiRequest, modelName: string, streamIntervalMs: number) {
    const chat = parsed.request.kind === "chat";
    const id = `${chat ? "chatcmpl" : "cmpl"}-${randomBytes(12).toString("hex")}`;
    const created = Math.floor(Date.now() / 1000);
    const object = chat ? "chat.completion.chunk" : "text_completion";
    const chunk = (choice: Record<string, unknown>) => ({id, object, created, model: modelName, choices: [{index: 0, ...choice, logprobs: null}]});
    const delta = (text: string) => chunk(chat ? {delta: {content: text}, finish_reason: null} : {text, finish_reason: null});

    // The stream opens with the first text, so that a refused request (queue full, prompt too long)
    // still gets its HTTP status.
    let stream: EventStream | undefined;
    const openStream = () => {
        if (stream != null) return stream;
        stream = new EventStream(response, streamIntervalMs);
        if (chat) stream.send(chunk({delta: {role: "assistant", content: ""}, finish_reason: null}), {opening: true});
        return stream;
    };

    return (event: GenerationEvent) => {
        if (event.type === "text") return openStream().send(delta(event.text));
        if (event.type === "error") return openStream().fail(event.error);
        const finishReason = finishReasonOf(event.stopReason);
        const usage = {
            prompt_tokens: event.usage.prompt,
            completion_tokens: event.usage.generated,
            total_tokens: event.usage.prompt + event.usage.generated,
            prompt_tokens_details: {cached_tokens: event.usage.cached}
        };
        if (parsed.request.stream) {
            const events = openStream();
            events.send(chunk(chat ? {delta: {}, finish_reason: finishReason} : {text: "", finish_reason: finishReason}));
            if (parsed.includeUsage) events.send({id, object, created, model: modelName, choices: [], usage});
            events.end();
            return;
        }
        const choice = chat
            ? {index: 0, message: {role: "assistant", content: event.text, refusal: null}, logprobs: null, finish_reason: finishReason}
            : {index: 0, text: event.text, logprobs: null, finish_reason: finishReason};
        sendJson(response, 200, {id, object: chat ? "chat.completion" : "text_completion", created, model: modelName, choices: [choice], usage});
    };
}

/**
 * eos and stop strings are "stop"; max_tokens and a full context are "length". An answer cut short
 * by the server's shutdown is "length" too: the client should not take it for a complete answer.
 */
function finishReasonOf(reason: StopReason): "stop" | "length" {
    return reason === "eos" || reason === "stop" ? "stop" : "length";
}
