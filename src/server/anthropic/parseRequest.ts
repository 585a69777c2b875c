// A field a request leaves out samples as `mixtral complete` and `chat` do: one source of defaults.
import {samplingDefaults, type SamplingOptions} from "../../generator/sampling.js";
import type {ConversationMessage, ToolCall} from "../../generator/chatMessages.js";
import {HttpError, invalidParam} from "../core/httpError.js";
import type {ChatPrompt, NeutralRequest, ToolChoice, ToolDefinition} from "../core/neutral.js";
import {checkMessageCount} from "../core/messageCount.js";
import {asObject, optionalBoolean, optionalNumber, optionalString, stopStrings, type Fields} from "../core/requestFields.js";
import {toolDefinition} from "../core/tools/functionTools.js";

/** An Anthropic Messages request, translated. */
export type AnthropicRequest = {model?: string, request: NeutralRequest & {kind: "chat"}};

/**
 * POST /v1/messages: `system` (text or text blocks), `messages` (text, `tool_use` and `tool_result`
 * blocks), `tools` and `tool_choice`, `max_tokens`, `temperature`, `top_p`, `top_k`,
 * `stop_sequences`, `stream`. `metadata`, `service_tier` and `cache_control` marks are accepted and
 * change nothing; Anthropic's server tools (web search, bash, …), images, documents and extended
 * thinking are refused in one sentence.
 */
export function parseMessagesRequest(body: unknown, contextSize: number): AnthropicRequest {
    const fields = asObject(body);
    checkMessageCount(fields.messages, contextSize);
    const prompt = parsePrompt(fields);
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
    return {model: optionalString(fields, "model"), request: {kind: "chat", ...prompt, sampling, stream}};
}

/** POST /v1/messages/count_tokens: the prompt of a Messages request (`system`, `messages`, `tools`, `tool_choice`). */
export function parseCountTokensRequest(body: unknown): ChatPrompt {
    return parsePrompt(asObject(body));
}

function parsePrompt(fields: Fields): ChatPrompt {
    const tools = parseTools(fields.tools);
    const {toolChoice, parallelToolCalls} = parseToolChoice(fields.tool_choice);
    const system = fields.system == null ? undefined : blocksText(fields.system, "system");
    return {
        conversation: {system: system === "" ? undefined : system, messages: parseMessages(fields.messages)},
        ...(tools == null ? {} : {tools}),
        ...(toolChoice == null ? {} : {toolChoice}),
        ...(parallelToolCalls == null ? {} : {parallelToolCalls})
    };
}

/**
 * `tools`: custom tools (`{name, description, input_schema}`, `type` "custom" or left out).
 * Anthropic's own server and client tools (`web_search_…`, `bash_…`, `text_editor_…`) are refused:
 * they run on Anthropic's side or need a model trained for them.
 */
function parseTools(value: unknown): ToolDefinition[] | undefined {
    if (value == null) return undefined;
    if (!Array.isArray(value)) throw invalidParam("tools", "tools must be a list of tools.");
    const names = new Set<string>();
    return value.map((item: unknown, index) => {
        const param = `tools.${index}`;
        const tool = asObject(item, param);
        if (tool.type != null && tool.type !== "custom")
            throw invalidParam(`${param}.type`, `${param} is a ${JSON.stringify(tool.type)} tool: only custom tools ({"name", "description", "input_schema"}) are supported.`);
        if (tool.input_schema == null) throw invalidParam(`${param}.input_schema`, `${param}.input_schema is required.`);
        return toolDefinition({name: tool.name, description: tool.description, parameters: tool.input_schema}, param, names,
            {schemaField: "input_schema", maxNameLength: 128});
    });
}

/** `tool_choice`: auto, any (a call is required), tool (that one), none; `disable_parallel_tool_use` allows one call only. */
function parseToolChoice(value: unknown): {toolChoice?: ToolChoice, parallelToolCalls?: boolean} {
    if (value == null) return {};
    const fields = asObject(value, "tool_choice");
    const parallel = optionalBoolean(fields, "disable_parallel_tool_use", "tool_choice.disable_parallel_tool_use");
    const parallelToolCalls = parallel == null ? {} : {parallelToolCalls: !parallel};
    if (fields.type === "auto" || fields.type === "none") return {toolChoice: fields.type, ...parallelToolCalls};
    if (fields.type === "any") return {toolChoice: "required", ...parallelToolCalls};
    if (fields.type === "tool" && typeof fields.name === "string") return {toolChoice: {name: fields.name}, ...parallelToolCalls};
    throw invalidParam("tool_choice", "tool_choice must be {\"type\": \"auto\"}, {\"type\": \"any\"}, {\"type\": \"tool\", \"name\": …} or {\"type\": \"none\"}.");
}

/**
 * Anthropic's messages → the neutral conversation. A user message's `tool_result` blocks are the
 * results of the calls before it (each a tool message, in order), its text blocks the user's turn;
 * an assistant message's `tool_use` blocks are its calls. Consecutive text turns of one role are
 * joined, as Anthropic's API does.
 */
function parseMessages(value: unknown): ConversationMessage[] {
    if (!Array.isArray(value)) throw invalidParam("messages", "messages must be a list of messages.");
    if (value.length === 0) throw invalidParam("messages", "messages must contain at least one message.");
    const messages: ConversationMessage[] = [];
    const push = (message: ConversationMessage) => {
        const last = messages.at(-1);
        if (message.role !== "tool" && !("toolCalls" in message) && last != null && last.role === message.role && !("toolCalls" in last))
            last.content += `\n\n${message.content}`;
        else messages.push(message);
    };
    value.forEach((item: unknown, index) => {
        const param = `messages.${index}`;
        const {role, content} = asObject(item, param);
        if (role !== "user" && role !== "assistant") throw invalidParam(`${param}.role`, `${param}.role must be "user" or "assistant".`);
        const {text, calls, results} = readBlocks(content, `${param}.content`, role);
        for (const result of results) push(result);
        if (calls.length > 0) push({role: "assistant", content: text ?? "", toolCalls: calls});
        else if (text != null) push({role, content: text});
    });
    // An assistant message last is a prefill: the answer continues it (the serving model's chat does).
    return messages;
}

/** A message's content: its text (undefined when it holds only tool blocks), the calls of an assistant's, the results in a user's. */
function readBlocks(content: unknown, param: string, role: "user" | "assistant") {
    if (typeof content === "string") return {text: content, calls: [], results: []};
    if (!Array.isArray(content)) throw invalidParam(param, `${param} must be a string or a list of content blocks.`);
    const texts: string[] = [];
    const calls: ToolCall[] = [];
    const results: ConversationMessage[] = [];
    content.forEach((item: unknown, index) => {
        const blockParam = `${param}.${index}`;
        const block = asObject(item, blockParam);
        if (block.type === "tool_use" && role === "assistant") {
            if (typeof block.id !== "string" || typeof block.name !== "string")
                throw invalidParam(blockParam, `${blockParam} must be {"type": "tool_use", "id", "name", "input"}.`);
            calls.push({id: block.id, name: block.name, arguments: block.input ?? {}});
        } else if (block.type === "tool_result" && role === "user") {
            if (typeof block.tool_use_id !== "string") throw invalidParam(`${blockParam}.tool_use_id`, `${blockParam}.tool_use_id must be a string.`);
            const text = block.content == null ? "" : blocksText(block.content, `${blockParam}.content`);
            // The model reads an error result as the text it is, marked as an error.
            results.push({role: "tool", toolCallId: block.tool_use_id, content: block.is_error === true ? `Error: ${text}` : text});
        } else if (block.type === "tool_use" || block.type === "tool_result") {
            throw invalidParam(blockParam, `${blockParam}: ${block.type} blocks belong in ${block.type === "tool_use" ? "assistant" : "user"} messages.`);
        } else texts.push(blockText(block, blockParam));
    });
    return {text: texts.length > 0 || (calls.length === 0 && results.length === 0) ? texts.join("") : undefined, calls, results};
}

/** A string, or a list of `{"type": "text", "text"}` blocks joined; other blocks are refused by kind. */
function blocksText(content: unknown, param: string): string {
    if (typeof content === "string") return content;
    if (!Array.isArray(content)) throw invalidParam(param, `${param} must be a string or a list of content blocks.`);
    return content.map((block: unknown, index) => blockText(asObject(block, `${param}.${index}`), `${param}.${index}`)).join("");
}

function blockText({type, text}: Fields, param: string): string {
    if (type === "image" || type === "document")
        throw invalidParam(param, `${type} blocks are not supported: Mixtral 8x7B reads text only.`);
    if (type !== "text" || typeof text !== "string")
        throw invalidParam(param, `Only text, tool_use and tool_result content blocks are supported, not ${JSON.stringify(type)}.`);
    return text;
}
