// A field a request leaves out samples as `mixtral complete` and `chat` do: one source of defaults.
import {samplingDefaults, type SamplingOptions} from "../../generator/sampling.js";
import type {ChatMessage} from "../../generator/chatMessages.js";
import type {ChatTranscript} from "../../generator/chatMessages.js";
import {HttpError, invalidParam} from "../core/httpError.js";
import type {NeutralRequest} from "../core/neutral.js";
import {asObject, optionalBoolean, optionalNumber, optionalSeed, stopStrings} from "../core/requestFields.js";
import {parseResponseFormat} from "./responseFormat.js";


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
    const {model, includeUsage, stream, sampling} = parseCommon(fields, contextSize);
    return {model, includeUsage, request: {kind: "chat", conversation: parseMessages(fields.messages), sampling, stream}};
}

export function parseCompletionRequest(body: unknown, contextSize: number): OpenAiRequest {
    const fields = asObject(body);
    const {model, includeUsage, stream, sampling} = parseCommon(fields, contextSize);
    return {model, includeUsage, request: {kind: "complete", prompt: parsePrompt(fields.prompt), sampling, stream}};
}

function parseCommon(fields: Body, contextSize: number) {
    const n = optionalNumber(fields, "n", {integer: true, min: 1});
    if (n != null && n > 1) throw new HttpError(400, "Only n = 1 is supported: send one request per answer.", {param: "n", code: "unsupported_value"});
    const maxTokens = optionalNumber(fields, "max_completion_tokens", {integer: true, min: 0})
        ?? optionalNumber(fields, "max_tokens", {integer: true, min: 0})
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
        // top_k, min_p and repeat_penalty are llama-server's extensions, taken as it takes them.
        topK: optionalNumber(fields, "top_k", {integer: true, min: 0}) ?? samplingDefaults.topK,
        minP: optionalNumber(fields, "min_p", {min: 0, max: 1}) ?? samplingDefaults.minP,
        repeatPenalty: optionalNumber(fields, "repeat_penalty", {min: 0, max: 100}) ?? samplingDefaults.repeatPenalty,
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
 * OpenAI messages → the conversation `chat` renders. System (and developer) messages become the
 * system text, which Mixtral's template folds into the first user turn; consecutive messages of one
 * role are joined, since the template alternates user and assistant.
 */
function parseMessages(value: unknown): ChatTranscript {
    if (!Array.isArray(value)) throw invalidParam("messages", "messages must be a list of messages.");
    if (value.length === 0) throw new HttpError(400, "messages must contain at least one message.", {param: "messages", code: "empty_array"});
    const system: string[] = [];
    const messages: ChatMessage[] = [];
    value.forEach((item: unknown, index) => {
        const param = `messages[${index}]`;
        if (item == null || typeof item !== "object") throw invalidParam(param, `${param} must be an object.`);
        const {role, content} = item as Body;
        const text = messageText(content, `${param}.content`);
        if (role === "system" || role === "developer") {
            system.push(text);
            return;
        }
        if (role !== "user" && role !== "assistant")
            throw invalidParam(`${param}.role`, `${param}.role must be system, developer, user or assistant.`);
        const last = messages.at(-1);
        if (last?.role === role) last.content += `\n\n${text}`;
        else messages.push({role, content: text});
    });
    if (messages.at(-1)?.role !== "user")
        throw new HttpError(400, "The last message (other than system messages) must be from the user.", {param: "messages", code: "invalid_value"});
    return {system: system.length > 0 ? system.join("\n\n") : undefined, messages};
}

/** A string, or a list of text parts (`[{type: "text", text}]`). */
function messageText(content: unknown, param: string): string {
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
        return content.map((part: unknown, index) => {
            const {type, text} = (part ?? {}) as Body;
            if (type !== "text" || typeof text !== "string")
                throw invalidParam(`${param}[${index}]`, "Only text content parts are supported.");
            return text;
        }).join("");
    }
    throw invalidParam(param, `${param} must be a string or a list of text parts.`);
}
