import {randomBytes} from "node:crypto";
import type {ServerResponse} from "node:http";
import type {ToolCall} from "../../generator/chatMessages.js";
import type {TokenLogprob} from "../../generator/result.js";
import type {HttpError} from "../core/httpError.js";
import type {GenerationEvent, Usage} from "../core/neutral.js";
import {PacedWriter} from "../core/pacedWriter.js";
import {readJsonBody} from "../core/readJsonBody.js";
import type {RouteContext} from "../core/routeTable.js";
import {sendJson} from "../core/sendJson.js";
import type {ServerCore} from "../core/serverCore.js";
import {chatLogprobs} from "./logprobsShape.js";
import {argumentsText} from "./toolFields.js";
import {parseResponsesRequest, type ResponsesRequest} from "./parseResponsesRequest.js";

/**
 * POST /v1/responses: the request served as a chat, answered as a Response object, or streamed as
 * the `response.*` events the `openai` package accumulates (created, in_progress, an output item per
 * message or function call with its parts and deltas, then completed or incomplete).
 */
export async function answerResponse(core: ServerCore, {request, response, signal}: RouteContext): Promise<void> {
    const body = await readJsonBody(request);
    const model = core.model();
    const parsed = parseResponsesRequest(body, model.contextSize);
    const modelName = parsed.model != null && parsed.model !== "" ? parsed.model : core.modelId;
    const builder = new ResponseBuilder(parsed, modelName);
    await model.generate(parsed.request, signal, parsed.request.stream
        ? streamRenderer(response, builder, core.streamIntervalMs)
        : (event) => {
            if (event.type === "done") sendJson(response, 200, builder.finish(event));
        });
}

/** The Response object, as it stands (in progress) and once done. */
class ResponseBuilder {
    readonly id = `resp_${randomBytes(12).toString("hex")}`;
    readonly messageId = `msg_${randomBytes(12).toString("hex")}`;
    private readonly createdAt = Math.floor(Date.now() / 1000);

    constructor(private readonly parsed: ResponsesRequest, private readonly modelName: string) {}

    inProgress() {
        return this.shape("in_progress", [], null, undefined);
    }

    /** The whole Response of a finished answer: its message (when it has text) and function calls. */
    finish(event: Extract<GenerationEvent, {type: "done"}>) {
        const incomplete = event.stopReason === "maxTokens" || event.stopReason === "contextFull" || event.stopReason === "abort";
        const output: unknown[] = [];
        if (event.text !== "" || event.toolCalls.length === 0) output.push(this.message(event.text, event.logprobs, incomplete ? "incomplete" : "completed"));
        event.toolCalls.forEach((call) => output.push(functionCallItem(call, "completed")));
        return this.shape(incomplete ? "incomplete" : "completed", output, incomplete ? {reason: "max_output_tokens"} : null, event.usage);
    }

    message(text: string, logprobs: readonly TokenLogprob[] | undefined, status: "in_progress" | "completed" | "incomplete") {
        return {id: this.messageId, type: "message", role: "assistant", status, content: [this.textPart(text, logprobs)]};
    }

    textPart(text: string, logprobs: readonly TokenLogprob[] | undefined) {
        return {type: "output_text", text, annotations: [], logprobs: this.logprobs(logprobs)};
    }

    logprobs(entries: readonly TokenLogprob[] | undefined) {
        return this.parsed.logprobs && entries != null ? chatLogprobs(entries).content : [];
    }

    private shape(status: string, output: unknown[], incompleteDetails: unknown, usage: Usage | undefined) {
        const {echo} = this.parsed;
        return {
            id: this.id, object: "response", created_at: this.createdAt, status,
            ...(status === "in_progress" ? {} : {completed_at: Math.floor(Date.now() / 1000)}),
            error: null, incomplete_details: incompleteDetails,
            instructions: echo.instructions, max_output_tokens: echo.maxOutputTokens, model: this.modelName,
            output, parallel_tool_calls: echo.parallelToolCalls, previous_response_id: null,
            temperature: echo.temperature, top_p: echo.topP, top_logprobs: echo.topLogprobs,
            text: {format: echo.textFormat}, tool_choice: echo.toolChoice, tools: echo.tools, truncation: "disabled",
            store: false, metadata: {},
            usage: usage == null ? null : {
                input_tokens: usage.prompt, input_tokens_details: {cached_tokens: usage.cached},
                output_tokens: usage.generated, output_tokens_details: {reasoning_tokens: 0},
                total_tokens: usage.prompt + usage.generated
            }
        };
    }
}

function functionCallItem(call: ToolCall, status: "in_progress" | "completed") {
    return {id: `fc_${call.id.replace(/^call_/, "")}`, type: "function_call", status, call_id: call.id, name: call.name,
        arguments: status === "completed" ? argumentsText(call.arguments) : ""};
}

/**
 * The events of a streamed Response. The stream opens with the first event the core reports, so
 * that a refused request (queue full, prompt too long) still gets its HTTP status.
 */
function streamRenderer(response: ServerResponse, builder: ResponseBuilder, streamIntervalMs: number) {
    let writer: PacedWriter | undefined;
    let sequence = 0;
    let outputIndex = 0;
    let messageOpen = false;
    let text = "";
    const logprobs: TokenLogprob[] = [];
    const send = (type: string, data: Record<string, unknown>, opening = false) =>
        writer!.write(`event: ${type}\ndata: ${JSON.stringify({type, sequence_number: sequence++, ...data})}\n\n`, {opening});
    const open = () => {
        if (writer != null) return;
        writer = new PacedWriter(response, streamIntervalMs, {"Content-Type": "text/event-stream; charset=utf-8"});
        send("response.created", {response: builder.inProgress()}, true);
        send("response.in_progress", {response: builder.inProgress()}, true);
    };
    const item = {item_id: builder.messageId};
    const openMessage = () => {
        if (messageOpen) return;
        messageOpen = true;
        send("response.output_item.added", {output_index: outputIndex, item: {...builder.message("", undefined, "in_progress"), content: []}});
        send("response.content_part.added", {...item, output_index: outputIndex, content_index: 0, part: builder.textPart("", undefined)});
    };
    const closeMessage = (status: "completed" | "incomplete") => {
        if (!messageOpen) return;
        messageOpen = false;
        const at = {...item, output_index: outputIndex, content_index: 0};
        send("response.output_text.done", {...at, text, logprobs: builder.logprobs(logprobs)});
        send("response.content_part.done", {...at, part: builder.textPart(text, logprobs)});
        send("response.output_item.done", {output_index: outputIndex, item: builder.message(text, logprobs, status)});
        outputIndex++;
    };
    const fail = (error: HttpError) => {
        send("error", {code: error.options.code ?? null, message: error.message, param: error.options.param ?? null});
        writer!.end();
    };

    return (event: GenerationEvent) => {
        open();
        if (event.type === "error") return fail(event.error);
        if (event.type === "text") {
            openMessage();
            text += event.text;
            logprobs.push(...event.logprobs ?? []);
            send("response.output_text.delta", {...item, output_index: outputIndex, content_index: 0, delta: event.text,
                logprobs: builder.logprobs(event.logprobs ?? [])});
            return;
        }
        if (event.type === "toolCall") {
            closeMessage("completed");
            const added = functionCallItem(event.call, "in_progress");
            const args = argumentsText(event.call.arguments);
            send("response.output_item.added", {output_index: outputIndex, item: added});
            send("response.function_call_arguments.delta", {item_id: added.id, output_index: outputIndex, delta: args});
            send("response.function_call_arguments.done", {item_id: added.id, output_index: outputIndex, name: event.call.name, arguments: args});
            send("response.output_item.done", {output_index: outputIndex, item: functionCallItem(event.call, "completed")});
            outputIndex++;
            return;
        }
        const final = builder.finish(event);
        // An answer with no text and no calls still has its (empty) message, as the final Response lists it.
        if (event.toolCalls.length === 0) openMessage();
        closeMessage(final.status === "completed" ? "completed" : "incomplete");
        send(final.status === "completed" ? "response.completed" : "response.incomplete", {response: final});
        writer!.end();
    };
}
