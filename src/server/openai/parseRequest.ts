// A field a request leaves out samples as `mixtral complete` and `chat` do: one source of defaults.
import {samplingDefaults, type SamplingOptions} from "../../generator/sampling.js";
import {maxTopLogprobs} from "../../generator/sampling.js";
import type {ConversationMessage, ToolTranscript} from "../../generator/chatMessages.js";
import {HttpError, invalidParam} from "../core/httpError.js";
import type {NeutralRequest} from "../core/neutral.js";
import {asObject, optionalBoolean, optionalNumber, optionalSeed, stopStrings, type Fields} from "../core/requestFields.js";
import {checkMessageCount} from "../core/messageCount.js";
import {parseResponseFormat} from "./responseFormat.js";
import {parseAssistantToolCalls, parseTools} from "../core/tools/functionTools.js";
import {parseToolChoice} from "./toolFields.js";


/** An OpenAI request body, translated: what the serving model is asked, and what only the answer's rendering needs. */
export type OpenAiRequest = {
    /** The `model` the client named, if any. */
    model?: string,
    /** `stream_options.include_usage` of a streamed request: a last chunk with the usage. */
    includeUsage: boolean,
    request: NeutralRequest
};

type Body = Record<string, unknown>;

export function parseChatRequest(body: unknown, contextSize: number): OpenAiRequest {
    const fields = asObject(body);
    checkMessageCount(fields.messages, contextSize);
    const {model, includeUsage, stream, sampling} = parseCommon(fields, contextSize);
    // logprobs: true asks for the chosen tokens' logprobs, top_logprobs for that many alternatives too.
    const logprobs = optionalBoolean(fields, "logprobs") ?? false;
    const top = optionalNumber(fields, "top_logprobs", {integer: true, min: 0, max: maxTopLogprobs});
    if (top != null && !logprobs) throw invalidParam("top_logprobs", "top_logprobs needs logprobs: true.");
    if (logprobs) sampling.logprobs = top ?? 0;
    return {model, includeUsage, request: {
        kind: "chat", conversation: parseMessages(fields.messages), sampling, stream,
        tools: parseTools(fields.tools), toolChoice: parseToolChoice(fields.tool_choice),
        parallelToolCalls: optionalBoolean(fields, "parallel_tool_calls")
    }};
}

export function parseCompletionRequest(body: unknown, contextSize: number): OpenAiRequest {
    const fields = asObject(body);
    const {model, includeUsage, stream, sampling} = parseCommon(fields, contextSize);
    // The legacy API's logprobs is the number of alternatives (OpenAI allows up to 5; llama-server, as here, more).
    const logprobs = optionalNumber(fields, "logprobs", {integer: true, min: 0, max: maxTopLogprobs});
    if (logprobs != null) sampling.logprobs = logprobs;
    return {model, includeUsage, request: {kind: "complete", prompt: parsePrompt(fields.prompt), sampling, stream}};
}

/** The fields every OpenAI generation request shares; `maxTokenFields` are the answer limit's names, first found wins. */
export function parseCommon(fields: Fields, contextSize: number, maxTokenFields = ["max_completion_tokens", "max_tokens"]) {
    const n = optionalNumber(fields, "n", {integer: true, min: 1});
    if (n != null && n > 1) throw new HttpError(400, "Only n = 1 is supported: send one request per answer.", {param: "n", code: "unsupported_value"});
    const maxTokens = maxTokenFields.map((name) => optionalNumber(fields, name, {integer: true, min: 0})).find((value) => value != null)
        // Without a limit the answer may fill the sequence's context, as llama-server's n_predict -1.
        ?? contextSize;
    const stream = optionalBoolean(fields, "stream") ?? false;
    const streamOptions = fields.stream_options;
    if (streamOptions != null && (typeof streamOptions !== "object" || Array.isArray(streamOptions)))
        throw invalidParam("stream_options", "stream_options must be an object.");
    const includeUsage = streamOptions == null ? false : optionalBoolean(streamOptions as Body, "include_usage", "stream_options.include_usage") ?? false;
    const model = fields.model;
    if (model != null && typeof model !== "string") throw invalidParam("model", "model must be a string.");
    const sampling: SamplingOptions = {
        maxTokens,
        temperature: optionalNumber(fields, "temperature", {min: 0, max: 100}) ?? samplingDefaults.temperature,
        topP: optionalNumber(fields, "top_p", {min: 0, max: 1}) ?? samplingDefaults.topP,
        // top_k, min_p and repeat_penalty are llama-server's extensions, taken as it takes them (llama.cpp's
        // sampler refuses a repeat penalty that is not greater than 0, as a failed request).
        topK: optionalNumber(fields, "top_k", {integer: true, min: 0}) ?? samplingDefaults.topK,
        minP: optionalNumber(fields, "min_p", {min: 0, max: 1}) ?? samplingDefaults.minP,
        repeatPenalty: optionalNumber(fields, "repeat_penalty", {above: 0, max: 100}) ?? samplingDefaults.repeatPenalty,
        presencePenalty: optionalNumber(fields, "presence_penalty", {min: -2, max: 2}) ?? samplingDefaults.presencePenalty,
        frequencyPenalty: optionalNumber(fields, "frequency_penalty", {min: -2, max: 2}) ?? samplingDefaults.frequencyPenalty,
        seed: optionalSeed(fields, "seed"),
        stop: stopStrings(fields.stop, "stop", {single: true})
    };
    const grammar = parseResponseFormat(fields.response_format);
    if (grammar != null) sampling.grammar = grammar;
    return {model: model ?? undefined, stream, includeUsage: stream && includeUsage, sampling};
}

function parsePrompt(value: unknown): string {
    if (typeof value === "string") return value;
    if (Array.isArray(value) && value.length === 1 && typeof value[0] === "string") return value[0];
    if (Array.isArray(value) && value.length > 1 && value.every((item) => typeof item === "string"))
        throw new HttpError(400, "Only one prompt a request is supported: send one request per prompt.", {param: "prompt", code: "unsupported_value"});
    throw invalidParam("prompt", "prompt must be a string.");
}

/**
 * OpenAI messages → the neutral conversation. System (and developer) messages become the system
 * text, which Mixtral's template folds into the first user turn; consecutive text messages of one
 * role are joined, since the template alternates user and assistant. An assistant message may carry
 * `tool_calls` (its content then often null); a `tool` message is a call's result.
 */
export function parseMessages(value: unknown, param = "messages"): ToolTranscript {
    if (!Array.isArray(value)) throw invalidParam(param, `${param} must be a list of messages.`);
    if (value.length === 0) throw new HttpError(400, `${param} must contain at least one message.`, {param, code: "empty_array"});
    const system: string[] = [];
    const messages: ConversationMessage[] = [];
    value.forEach((item: unknown, index) => {
        const itemParam = `${param}[${index}]`;
        if (item == null || typeof item !== "object") throw invalidParam(itemParam, `${itemParam} must be an object.`);
        const {role, content, tool_calls: toolCalls, tool_call_id: toolCallId} = item as Body;
        const withCalls = role === "assistant" && Array.isArray(toolCalls) && toolCalls.length > 0;
        // An assistant turn that only calls tools sends content null.
        const text = content == null && withCalls ? "" : messageText(content, `${itemParam}.content`);
        if (role === "system" || role === "developer") {
            system.push(text);
            return;
        }
        if (role === "tool") {
            if (toolCallId != null && typeof toolCallId !== "string") throw invalidParam(`${itemParam}.tool_call_id`, `${itemParam}.tool_call_id must be a string.`);
            messages.push({role: "tool", toolCallId: typeof toolCallId === "string" ? toolCallId : undefined, content: text});
            return;
        }
        if (role !== "user" && role !== "assistant")
            throw invalidParam(`${itemParam}.role`, `${itemParam}.role must be system, developer, user, assistant or tool.`);
        if (withCalls) {
            messages.push({role: "assistant", content: text, toolCalls: parseAssistantToolCalls(toolCalls as unknown[], `${itemParam}.tool_calls`)});
            return;
        }
        const last = messages.at(-1);
        if (last != null && last.role === role && !("toolCalls" in last)) last.content += `\n\n${text}`;
        else messages.push({role, content: text});
    });
    // Only system messages are served as llama-server serves them; an assistant message last is a prefill the answer continues.
    return {system: system.length > 0 ? system.join("\n\n") : undefined, messages};
}

/** A string, or a list of text parts (`[{type: "text", text}]`). */
export function messageText(content: unknown, param: string): string {
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
        return content.map((part: unknown, index) => {
            const {type, text} = (part ?? {}) as Body;
            // "input_text"/"output_text": the Responses API's parts.
            if ((type !== "text" && type !== "input_text" && type !== "output_text") || typeof text !== "string")
                throw invalidParam(`${param}[${index}]`, "Only text content parts are supported.");
            return text;
        }).join("");
    }
    throw invalidParam(param, `${param} must be a string or a list of text parts.`);
}
