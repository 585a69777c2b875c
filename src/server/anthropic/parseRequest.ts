// A field a request leaves out samples as `mixtral complete` and `chat` do: one source of defaults.
import {samplingDefaults, type SamplingOptions} from "../../generator/sampling.js";
import type {ChatMessage, ChatTranscript} from "../../generator/chatMessages.js";
import {HttpError, invalidParam} from "../core/httpError.js";
import type {NeutralRequest} from "../core/neutral.js";
import {checkMessageCount} from "../core/messageCount.js";
import {asObject, optionalBoolean, optionalNumber, optionalString, stopStrings, type Fields} from "../core/requestFields.js";

/** An Anthropic Messages request, translated. */
export type AnthropicRequest = {model?: string, request: NeutralRequest & {kind: "chat"}};

const toolsRefused = "tools are not supported yet by this server.";

/**
 * POST /v1/messages: `system` (text or text blocks), `messages` (text or text blocks), `max_tokens`,
 * `temperature`, `top_p`, `top_k`, `stop_sequences`, `stream`. `metadata`, `service_tier` and
 * `cache_control` marks are accepted and change nothing; tools, images, documents and extended
 * thinking are refused in one sentence.
 */
export function parseMessagesRequest(body: unknown, contextSize: number): AnthropicRequest {
    const fields = asObject(body);
    checkMessageCount(fields.messages, contextSize);
    const conversation = parseConversation(fields);
    const thinking = fields.thinking;
    if (thinking != null && (thinking as {type?: unknown}).type !== "disabled")
        throw invalidParam("thinking", "thinking is not supported: Mixtral 8x7B is not a thinking model.");
    const sampling: SamplingOptions = {
        // Anthropic requires max_tokens; without it the answer may fill the sequence's context, as on the other routes.
        maxTokens: optionalNumber(fields, "max_tokens", {integer: true, min: 1}) ?? contextSize,
        temperature: optionalNumber(fields, "temperature", {min: 0, max: 1}) ?? samplingDefaults.temperature,
        topP: optionalNumber(fields, "top_p", {min: 0, max: 1}) ?? samplingDefaults.topP,
        topK: optionalNumber(fields, "top_k", {integer: true, min: 0}) ?? samplingDefaults.topK,
        minP: samplingDefaults.minP,
        repeatPenalty: samplingDefaults.repeatPenalty,
        presencePenalty: samplingDefaults.presencePenalty,
        frequencyPenalty: samplingDefaults.frequencyPenalty,
        stop: stopStrings(fields.stop_sequences, "stop_sequences")
    };
    const stream = optionalBoolean(fields, "stream") ?? false;
    return {model: optionalString(fields, "model"), request: {kind: "chat", conversation, sampling, stream}};
}

/** POST /v1/messages/count_tokens: the conversation of a Messages request (`system`, `messages`). */
export function parseCountTokensRequest(body: unknown): ChatTranscript {
    return parseConversation(asObject(body));
}

function parseConversation(fields: Fields): ChatTranscript {
    if (fields.tools != null && !(Array.isArray(fields.tools) && fields.tools.length === 0)) throw invalidParam("tools", toolsRefused);
    if (fields.tool_choice != null) throw invalidParam("tool_choice", toolsRefused);
    const system = fields.system == null ? undefined : blocksText(fields.system, "system");
    const value = fields.messages;
    if (!Array.isArray(value)) throw invalidParam("messages", "messages must be a list of messages.");
    if (value.length === 0) throw invalidParam("messages", "messages must contain at least one message.");
    const messages: ChatMessage[] = [];
    value.forEach((item: unknown, index) => {
        const param = `messages.${index}`;
        const {role, content} = asObject(item, param);
        if (role !== "user" && role !== "assistant") throw invalidParam(`${param}.role`, `${param}.role must be "user" or "assistant".`);
        const text = blocksText(content, `${param}.content`);
        // Consecutive turns of one role are joined, as Anthropic's API does.
        const last = messages.at(-1);
        if (last?.role === role) last.content += `\n\n${text}`;
        else messages.push({role, content: text});
    });
    // An assistant message last is a prefill: the answer continues it (the serving model's chat does).
    return {system: system === "" ? undefined : system, messages};
}

/** A string, or a list of `{"type": "text", "text"}` blocks joined; other blocks are refused by kind. */
function blocksText(content: unknown, param: string): string {
    if (typeof content === "string") return content;
    if (!Array.isArray(content)) throw invalidParam(param, `${param} must be a string or a list of content blocks.`);
    return content.map((block: unknown, index) => {
        const {type, text} = asObject(block, `${param}.${index}`);
        if (type === "tool_use" || type === "tool_result") throw invalidParam(`${param}.${index}`, toolsRefused);
        if (type === "image" || type === "document")
            throw invalidParam(`${param}.${index}`, `${type} blocks are not supported: Mixtral 8x7B reads text only.`);
        if (type !== "text" || typeof text !== "string")
            throw invalidParam(`${param}.${index}`, `Only text content blocks ({"type": "text", "text": "…"}) are supported, not ${JSON.stringify(type)}.`);
        return text;
    }).join("");
}
