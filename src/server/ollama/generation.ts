import type {ToolCall} from "../../generator/chatMessages.js";
import type {NeutralStopReason} from "../core/neutral.js";
import type {GenerationEvent, Timings, Usage} from "../core/neutral.js";
import {readJsonBody} from "../core/readJsonBody.js";
import type {RouteContext} from "../core/routeTable.js";
import {sendJson} from "../core/sendJson.js";
import type {ServerCore} from "../core/serverCore.js";
import {NdjsonStream} from "./ndjsonStream.js";
import type {OllamaRequest} from "./parseRequest.js";

type Endpoint = "chat" | "generate";

/**
 * POST /api/chat and /api/generate: the body parsed into a neutral request, served by the core,
 * and answered as Ollama does: NDJSON lines (the default) ending with a `done: true` line that
 * carries done_reason, the token counts and the durations in nanoseconds; one JSON object with
 * `stream: false`. Calls of tools come in `message.tool_calls` (streamed: a line for each call). A request with no messages (no prompt) only asks for the model to be loaded: it
 * is answered at once with done_reason "load".
 */
export async function answerGeneration(
    core: ServerCore, {request, response, signal}: RouteContext, endpoint: Endpoint,
    parse: (body: unknown, contextSize: number) => OllamaRequest
): Promise<void> {
    const startedAt = performance.now();
    const body = await readJsonBody(request);
    const model = core.model();
    const parsed = parse(body, model.contextSize);
    // Any model name is answered by the loaded model, and echoed, as on the OpenAI routes.
    const modelName = parsed.model != null && parsed.model !== "" ? parsed.model : core.modelId;
    const line = (fields: Record<string, unknown>) => ({model: modelName, created_at: new Date().toISOString(), ...fields});
    const piece = (text: string, calls: readonly ToolCall[] = []) => endpoint === "chat"
        ? {message: {role: "assistant", content: text, ...(calls.length > 0 ? {tool_calls: calls.map(toolCallObject)} : {})}}
        : {response: text};
    if (parsed.request == null) {
        sendJson(response, 200, line({...piece(""), done_reason: "load", done: true}));
        return;
    }
    const streamed = parsed.request.stream;
    let stream: NdjsonStream | undefined;
    // The stream opens with the first text, so that a refused request still gets its HTTP status.
    const openStream = () => stream ??= new NdjsonStream(response, core.streamIntervalMs);
    await model.generate(parsed.request, signal, (event: GenerationEvent) => {
        if (event.type === "text") return openStream().send(line({...piece(event.text), done: false}));
        if (event.type === "error") return openStream().fail(event.error);
        // A whole call, in a line of its own, as Ollama streams them (its client gathers nothing: each line stands alone).
        if (event.type === "toolCall") return openStream().send(line({...piece("", [event.call]), done: false}));
        const last = line({
            ...(streamed ? piece("") : piece(event.text, event.toolCalls)),
            done: true,
            done_reason: doneReasonOf(event.stopReason),
            ...durations(event.usage, event.timings, performance.now() - startedAt)
        });
        if (streamed) openStream().end(last);
        else sendJson(response, 200, last);
    });
}

/** A call as Ollama writes it: the function's name and its arguments as an object (no id: Ollama pairs results by order or tool_name). */
function toolCallObject(call: ToolCall) {
    return {function: {name: call.name, arguments: call.arguments}};
}

/** eos and stop strings are "stop"; max tokens or a full context "length" (a shutdown is an error line). */
function doneReasonOf(reason: NeutralStopReason): "stop" | "length" {
    // Ollama ends a tool-calling answer with "stop" too.
    return reason === "eos" || reason === "stop" || reason === "toolCalls" ? "stop" : "length";
}

/**
 * Ollama's counts and durations (ns). The model is loaded before any request, so load_duration is
 * the time the request waited for a free sequence; prompt_eval_count is the whole prompt, cached
 * tokens included (prompt_eval_duration shows what evaluating the rest took).
 */
function durations(usage: Usage, timings: Timings, totalMs: number) {
    const ns = (ms: number) => Math.round(ms * 1e6);
    return {
        total_duration: ns(totalMs),
        load_duration: ns(timings.queuedMs),
        prompt_eval_count: usage.prompt,
        prompt_eval_duration: ns(timings.promptMs),
        eval_count: usage.generated,
        eval_duration: ns(timings.generateMs)
    };
}
