import {randomBytes} from "node:crypto";
import type {ServerResponse} from "node:http";
import type {ToolCall} from "../../generator/chatMessages.js";
import type {TokenLogprob} from "../../generator/result.js";
import type {GenerationEvent, NeutralStopReason} from "../core/neutral.js";
import {readJsonBody} from "../core/readJsonBody.js";
import type {RouteContext} from "../core/routeTable.js";
import {sendJson} from "../core/sendJson.js";
import type {ServerCore} from "../core/serverCore.js";
import {EventStream} from "./eventStream.js";
import {chatLogprobs, completionLogprobs} from "./logprobsShape.js";
import type {OpenAiRequest} from "./parseRequest.js";
import {argumentsText} from "./toolFields.js";

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
    // Completions' text_offset counts from the prompt's start.
    let offset = parsed.request.kind === "complete" ? parsed.request.prompt.length : 0;
    const logprobsOf = (entries: readonly TokenLogprob[] | undefined) => {
        if (entries == null || parsed.request.sampling.logprobs == null) return null;
        if (chat) return chatLogprobs(entries);
        const shaped = completionLogprobs(entries, offset);
        offset += entries.reduce((length, entry) => length + entry.token.length, 0);
        return shaped;
    };
    const chunk = (choice: Record<string, unknown>, logprobs: unknown = null) =>
        ({id, object, created, model: modelName, choices: [{index: 0, ...choice, logprobs}]});
    const delta = (text: string, logprobs: unknown) =>
        chunk(chat ? {delta: {content: text}, finish_reason: null} : {text, finish_reason: null}, logprobs);

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
        if (event.type === "text") return openStream().send(delta(event.text, logprobsOf(event.logprobs ?? [])));
        // A whole call in one delta: its id, name and arguments (clients gather deltas by index).
        if (event.type === "toolCall")
            return openStream().send(chunk({delta: {tool_calls: [{index: event.index, ...toolCallObject(event.call)}]}, finish_reason: null}));
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
        const calls = event.toolCalls.length > 0 ? {tool_calls: event.toolCalls.map(toolCallObject)} : {};
        const choice = chat
            ? {index: 0, message: {role: "assistant", content: event.toolCalls.length > 0 && event.text === "" ? null : event.text, refusal: null, ...calls},
                logprobs: logprobsOf(event.logprobs), finish_reason: finishReason}
            : {index: 0, text: event.text, logprobs: logprobsOf(event.logprobs), finish_reason: finishReason};
        sendJson(response, 200, {id, object: chat ? "chat.completion" : "text_completion", created, model: modelName, choices: [choice], usage});
    };
}

function toolCallObject(call: ToolCall) {
    return {id: call.id, type: "function", function: {name: call.name, arguments: argumentsText(call.arguments)}};
}

/**
 * eos and stop strings are "stop"; max_tokens and a full context are "length"; calls of tools
 * "tool_calls". (An answer cut by the server's shutdown is an error, never a finish_reason.)
 */
function finishReasonOf(reason: NeutralStopReason): "stop" | "length" | "tool_calls" {
    if (reason === "toolCalls") return "tool_calls";
    return reason === "eos" || reason === "stop" ? "stop" : "length";
}
