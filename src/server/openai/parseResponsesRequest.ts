import {maxTopLogprobs} from "../../generator/sampling.js";
import type {ToolTranscript} from "../../generator/chatMessages.js";
import {HttpError, invalidParam} from "../core/httpError.js";
import type {NeutralRequest} from "../core/neutral.js";
import {asObject, optionalBoolean, optionalNumber} from "../core/requestFields.js";
import {checkMessageCount} from "../core/messageCount.js";
import {messageText, parseCommon, parseMessages} from "./parseRequest.js";
import {parseResponseFormat, responsesFormatPlace} from "./responseFormat.js";
import {parseTools} from "../core/tools/functionTools.js";
import {parseToolChoice} from "./toolFields.js";

type Body = Record<string, unknown>;

/** A Responses API request, translated; what the answer echoes (instructions, limits, tools) is kept as sent. */
export type ResponsesRequest = {
    model?: string,
    /** Logprobs were asked for (`include: ["message.output_text.logprobs"]`). */
    logprobs: boolean,
    echo: {instructions: string | null, maxOutputTokens: number | null, temperature: number, topP: number,
        tools: unknown[], toolChoice: unknown, parallelToolCalls: boolean, textFormat: unknown, topLogprobs: number},
    request: Extract<NeutralRequest, {kind: "chat"}>
};

/**
 * POST /v1/responses, stateless: `input` (a string or a list of messages, function calls and their
 * outputs), `instructions` (the system text), `max_output_tokens`, sampling, `text.format`, tools.
 * `previous_response_id` is refused (nothing is stored); `store`, `metadata`, `user`, `truncation`
 * and `reasoning` are accepted and have no effect.
 */
export function parseResponsesRequest(body: unknown, contextSize: number): ResponsesRequest {
    const fields = asObject(body);
    if (fields.previous_response_id != null)
        throw new HttpError(400, "previous_response_id is not supported: this server keeps no responses; send the whole conversation in input.",
            {param: "previous_response_id", code: "unsupported_value"});
    if (fields.conversation != null)
        throw new HttpError(400, "conversation is not supported: this server keeps no conversations; send the whole conversation in input.",
            {param: "conversation", code: "unsupported_value"});
    checkMessageCount(fields.input, contextSize, "input");
    const {model, stream, sampling} = parseCommon(fields, contextSize, ["max_output_tokens"]);
    const text = fields.text;
    if (text != null && (typeof text !== "object" || Array.isArray(text))) throw invalidParam("text", "text must be an object.");
    const textFormat = (text as Body | undefined)?.format;
    const grammar = parseResponseFormat(textFormat, responsesFormatPlace);
    if (grammar != null) sampling.grammar = grammar;
    const include = fields.include;
    if (include != null && (!Array.isArray(include) || include.some((item) => typeof item !== "string")))
        throw invalidParam("include", "include must be a list of strings.");
    const logprobs = (include as string[] | undefined)?.includes("message.output_text.logprobs") ?? false;
    const topLogprobs = optionalNumber(fields, "top_logprobs", {integer: true, min: 0, max: maxTopLogprobs});
    if (logprobs || topLogprobs != null) sampling.logprobs = topLogprobs ?? 0;
    const instructions = fields.instructions;
    if (instructions != null && typeof instructions !== "string") throw invalidParam("instructions", "instructions must be a string.");
    const conversation = parseInput(fields.input, instructions ?? undefined);
    const tools = parseTools(fields.tools);
    const parallelToolCalls = optionalBoolean(fields, "parallel_tool_calls");
    return {
        model,
        logprobs: logprobs || topLogprobs != null,
        echo: {
            instructions: instructions ?? null,
            maxOutputTokens: (fields.max_output_tokens as number | undefined) ?? null,
            temperature: sampling.temperature, topP: sampling.topP,
            tools: (fields.tools as unknown[] | undefined) ?? [], toolChoice: fields.tool_choice ?? "auto",
            parallelToolCalls: parallelToolCalls ?? true, textFormat: textFormat ?? {type: "text"}, topLogprobs: topLogprobs ?? 0
        },
        request: {kind: "chat", conversation, sampling, stream, tools, toolChoice: parseToolChoice(fields.tool_choice), parallelToolCalls}
    };
}

/**
 * `input`: a string (one user message) or items — messages, `function_call`s (the model's earlier
 * calls) and `function_call_output`s —, read as the Chat Completions messages they stand for
 * (calls one after another are one assistant turn's), with `instructions` as the first system message.
 */
function parseInput(value: unknown, instructions: string | undefined): ToolTranscript {
    const system = instructions == null || instructions === "" ? [] : [{role: "system", content: instructions}];
    if (typeof value === "string") return parseMessages([...system, {role: "user", content: value}], "input");
    if (!Array.isArray(value) || value.length === 0) throw invalidParam("input", "input must be a string or a non-empty list of items.");
    const messages: Body[] = [...system];
    value.forEach((item: unknown, index) => {
        const param = `input[${index}]`;
        if (item == null || typeof item !== "object" || Array.isArray(item)) throw invalidParam(param, `${param} must be an object.`);
        const fields = item as Body;
        const type = fields.type ?? "message";
        if (type === "function_call") {
            if (typeof fields.name !== "string") throw invalidParam(`${param}.name`, `${param}.name must be a string.`);
            const call = {id: fields.call_id, type: "function", function: {name: fields.name, arguments: fields.arguments}};
            const last = messages.at(-1);
            if (last?.role === "assistant" && Array.isArray(last.tool_calls)) last.tool_calls.push(call);
            else messages.push({role: "assistant", content: null, tool_calls: [call]});
        } else if (type === "function_call_output") {
            const output = typeof fields.output === "string" ? fields.output : messageText(fields.output, `${param}.output`);
            messages.push({role: "tool", tool_call_id: fields.call_id, content: output});
        } else if (type === "message") messages.push({role: fields.role, content: fields.content});
        // Reasoning items of another model's earlier turns hold nothing this model can use.
        else if (type !== "reasoning") throw invalidParam(`${param}.type`, `${param}.type must be message, function_call or function_call_output.`);
    });
    return parseMessages(messages, "input");
}
