import {randomBytes} from "node:crypto";
import type {ToolCall} from "../../generator/chatMessages.js";
import type {NeutralStopReason} from "../core/neutral.js";
import type {GenerationEvent} from "../core/neutral.js";
import {readJsonBody} from "../core/readJsonBody.js";
import type {RouteContext} from "../core/routeTable.js";
import {sendJson} from "../core/sendJson.js";
import type {ServerCore} from "../core/serverCore.js";
import {AnthropicEventStream} from "./eventStream.js";
import {parseCountTokensRequest, parseMessagesRequest} from "./parseRequest.js";

/**
 * POST /v1/messages: the body parsed into a neutral chat request, served by the core, and answered
 * as Anthropic does: one `message` object, or (stream) the events message_start,
 * content_block_start, content_block_delta…, content_block_stop (a text block, or a tool_use block a
 * call), message_delta (stop_reason, usage), message_stop. usage.input_tokens is the whole prompt (what count_tokens says): the reuse of a
 * cached prefix is automatic here and not reported as Anthropic's cache_read_input_tokens.
 */
export async function answerMessages(core: ServerCore, {request, response, signal}: RouteContext): Promise<void> {
    const body = await readJsonBody(request);
    const model = core.model();
    const parsed = parseMessagesRequest(body, model.contextSize);
    // Any model name is answered by the loaded model, and echoed, as on the OpenAI routes.
    const modelName = parsed.model != null && parsed.model !== "" ? parsed.model : core.modelId;
    const id = `msg_${randomBytes(12).toString("hex")}`;
    const message = (content: unknown[], stopReason: string | null, stopSequence: string | null, usage: {input_tokens: number, output_tokens: number}) =>
        ({id, type: "message", role: "assistant", model: modelName, content, stop_reason: stopReason, stop_sequence: stopSequence, usage});

    // The stream opens with the first text, call or the end, so that a refused request still gets its HTTP status.
    let stream: AnthropicEventStream | undefined;
    const openStream = () => {
        if (stream != null) return stream;
        stream = new AnthropicEventStream(response, core.streamIntervalMs);
        const inputTokens = model.countChatTokens(parsed.request);
        stream.send({type: "message_start", message: message([], null, null, {input_tokens: inputTokens, output_tokens: 0})}, {opening: true});
        return stream;
    };
    // Content blocks are numbered from 0 in the order they start: the text block (opened by the first text), then each call.
    let blocks = 0;
    let textBlock: number | undefined;
    const openText = () => {
        if (textBlock != null) return textBlock;
        textBlock = blocks++;
        openStream().send({type: "content_block_start", index: textBlock, content_block: {type: "text", text: ""}}, {opening: true});
        return textBlock;
    };
    const closeText = () => {
        if (textBlock != null) openStream().send({type: "content_block_stop", index: textBlock});
        textBlock = undefined;
    };

    await model.generate(parsed.request, signal, (event: GenerationEvent) => {
        if (event.type === "text") return openStream().send({type: "content_block_delta", index: openText(), delta: {type: "text_delta", text: event.text}});
        if (event.type === "error") return openStream().fail(event.error);
        if (event.type === "toolCall") {
            // A whole call: its block opens with an empty input, which the one input_json_delta fills, as the SDK gathers it.
            closeText();
            const events = openStream();
            const index = blocks++;
            events.send({type: "content_block_start", index, content_block: {...toolUseBlock(event.call), input: {}}});
            events.send({type: "content_block_delta", index, delta: {type: "input_json_delta", partial_json: JSON.stringify(event.call.arguments)}});
            events.send({type: "content_block_stop", index});
            return;
        }
        const stopReason = stopReasonOf(event.stopReason);
        const stopSequence = stopReason === "stop_sequence" ? event.stopSequence ?? null : null;
        if (!parsed.request.stream) {
            const usage = {input_tokens: event.usage.prompt, output_tokens: event.usage.generated};
            // An answer that only calls tools has no text block.
            const text = event.toolCalls.length > 0 && event.text === "" ? [] : [{type: "text", text: event.text}];
            sendJson(response, 200, message([...text, ...event.toolCalls.map(toolUseBlock)], stopReason, stopSequence, usage));
            return;
        }
        // An empty answer still has its (empty) text block, as unstreamed.
        if (blocks === 0) openText();
        closeText();
        const events = openStream();
        events.send({type: "message_delta", delta: {stop_reason: stopReason, stop_sequence: stopSequence}, usage: {output_tokens: event.usage.generated}});
        events.end({type: "message_stop"});
    });
}

/** A call as Anthropic writes it: a `tool_use` block whose id starts with toolu_ (the core's ids start with call_). */
function toolUseBlock(call: ToolCall) {
    return {type: "tool_use", id: call.id.replace(/^call_/, "toolu_"), name: call.name, input: call.arguments};
}

/** POST /v1/messages/count_tokens: `{"input_tokens"}`, the prompt /v1/messages would evaluate for the same system and messages. */
export async function countTokens(core: ServerCore, {request, response}: RouteContext): Promise<void> {
    const body = await readJsonBody(request);
    const model = core.model();
    sendJson(response, 200, {input_tokens: model.countChatTokens(parseCountTokensRequest(body))});
}

/** eos is end_turn, a stop string stop_sequence; max tokens or a full context max_tokens (a shutdown is an error event). */
function stopReasonOf(reason: NeutralStopReason): "end_turn" | "stop_sequence" | "max_tokens" | "tool_use" {
    if (reason === "eos") return "end_turn";
    if (reason === "toolCalls") return "tool_use";
    if (reason === "stop") return "stop_sequence";
    return "max_tokens";
}
