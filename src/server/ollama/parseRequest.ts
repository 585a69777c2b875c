// A field a request leaves out samples as `mixtral complete` and `chat` do: one source of defaults.
import {samplingDefaults, type SamplingOptions} from "../../generator/sampling.js";
import type {ConversationMessage, ToolTranscript} from "../../generator/chatMessages.js";
import {HttpError, invalidParam} from "../core/httpError.js";
import type {NeutralRequest} from "../core/neutral.js";
import {asObject, optionalBoolean, optionalNumber, optionalSeed, optionalString, stopStrings, type Fields} from "../core/requestFields.js";
import {parseAssistantToolCalls, parseTools} from "../core/tools/functionTools.js";
import {checkMessageCount} from "../core/messageCount.js";
import {parseFormat} from "./format.js";

/** An Ollama request, translated; `request` is undefined when it asks for nothing but the model loaded (no messages, no prompt). */
export type OllamaRequest = {model?: string, request?: NeutralRequest};

const imagesRefused = "images are not supported: Mixtral 8x7B reads text only.";
/**
 * POST /api/chat: `messages` (system, user, assistant — with `tool_calls` —, tool), `tools` (as
 * OpenAI nests them; Ollama has no tool_choice: the model may answer or call), `options`, `format`,
 * `stream` (default true).
 */
export function parseChatRequest(body: unknown, contextSize: number): OllamaRequest {
    const fields = asObject(body);
    checkMessageCount(fields.messages, contextSize);
    const common = parseCommon(fields, contextSize);
    const tools = parseTools(fields.tools);
    const messages = fields.messages;
    if (messages != null && !Array.isArray(messages)) throw invalidParam("messages", "messages must be a list of messages.");
    // As Ollama: no messages loads the model and answers at once (done_reason "load").
    if (messages == null || messages.length === 0) return {model: common.model};
    return {model: common.model, request: {kind: "chat", conversation: parseMessages(messages), sampling: common.sampling, stream: common.stream,
        ...(tools == null || tools.length === 0 ? {} : {tools})}};
}

/**
 * POST /api/generate: `prompt` answered as a user message with the chat template and `system`, as
 * Ollama does, or completed as given with `raw: true`.
 */
export function parseGenerateRequest(body: unknown, contextSize: number): OllamaRequest {
    const fields = asObject(body);
    const common = parseCommon(fields, contextSize);
    const prompt = optionalString(fields, "prompt") ?? "";
    const system = optionalString(fields, "system");
    const raw = optionalBoolean(fields, "raw") ?? false;
    if (fields.images != null && !(Array.isArray(fields.images) && fields.images.length === 0)) throw invalidParam("images", imagesRefused);
    if (optionalString(fields, "suffix") != null && fields.suffix !== "")
        throw invalidParam("suffix", "suffix is not supported: Mixtral 8x7B has no fill-in-the-middle tokens.");
    if (optionalString(fields, "template") != null && fields.template !== "")
        throw invalidParam("template", "template is not supported: prompts are rendered with the model's own chat template; send raw: true with a prompt you rendered yourself instead.");
    if (fields.context != null && !(Array.isArray(fields.context) && fields.context.length === 0))
        throw invalidParam("context", "context is not supported: send the whole conversation to /api/chat instead (its KV cache is reused).");
    if (prompt === "") return {model: common.model};
    const request: NeutralRequest = raw
        ? {kind: "complete", prompt, sampling: common.sampling, stream: common.stream}
        : {kind: "chat", conversation: {system: system === "" ? undefined : system, messages: [{role: "user", content: prompt}]}, sampling: common.sampling, stream: common.stream};
    return {model: common.model, request};
}

function parseCommon(fields: Fields, contextSize: number) {
    const model = optionalString(fields, "model");
    const stream = optionalBoolean(fields, "stream") ?? true;
    // keep_alive is accepted and has nothing to do: the model stays loaded as long as the server runs.
    const keepAlive = fields.keep_alive;
    if (keepAlive != null && typeof keepAlive !== "string" && typeof keepAlive !== "number")
        throw invalidParam("keep_alive", "keep_alive must be a duration (\"5m\") or a number of seconds.");
    const think = fields.think;
    if (think != null && think !== false)
        throw invalidParam("think", "think is not supported: Mixtral 8x7B is not a thinking model.");
    if (fields.logprobs === true) throw invalidParam("logprobs", "logprobs are not supported yet by Ollama's API here; use /v1/chat/completions.");
    const sampling = parseOptions(fields.options, contextSize);
    const grammar = parseFormat(fields.format);
    if (grammar != null) sampling.grammar = grammar;
    return {model, stream, sampling};
}

/**
 * Ollama's `options`: the sampling ones as llama.cpp takes them, `num_predict` (-1 and -2: until
 * the context is full), and `num_ctx`, which cannot grow a sequence's context: one above it is
 * refused. The rest (num_thread, num_gpu, mirostat, …) are load settings or samplers this server
 * fixes at start, and are ignored, as Ollama ignores options it does not know.
 */
function parseOptions(value: unknown, contextSize: number): SamplingOptions {
    const options = value == null ? {} : asObject(value, "options");
    const param = (name: string) => ({param: `options.${name}`});
    const numCtx = optionalNumber(options, "num_ctx", {integer: true, min: 1, ...param("num_ctx")});
    if (numCtx != null && numCtx > contextSize)
        throw invalidParam("options.num_ctx", `options.num_ctx is ${numCtx}, but each request of this server holds at most ${contextSize} tokens: restart \`mixtral serve\` with a larger --context-size (or fewer --parallel sequences to make room), or send a smaller num_ctx.`);
    const numPredict = optionalNumber(options, "num_predict", {integer: true, min: -2, ...param("num_predict")});
    return {
        maxTokens: numPredict == null || numPredict < 0 ? contextSize : numPredict,
        temperature: optionalNumber(options, "temperature", {min: 0, max: 100, ...param("temperature")}) ?? samplingDefaults.temperature,
        topK: optionalNumber(options, "top_k", {integer: true, min: 0, ...param("top_k")}) ?? samplingDefaults.topK,
        topP: optionalNumber(options, "top_p", {min: 0, max: 1, ...param("top_p")}) ?? samplingDefaults.topP,
        minP: optionalNumber(options, "min_p", {min: 0, max: 1, ...param("min_p")}) ?? samplingDefaults.minP,
        repeatPenalty: optionalNumber(options, "repeat_penalty", {above: 0, max: 100, ...param("repeat_penalty")}) ?? samplingDefaults.repeatPenalty,
        presencePenalty: optionalNumber(options, "presence_penalty", {min: -2, max: 2, ...param("presence_penalty")}) ?? samplingDefaults.presencePenalty,
        frequencyPenalty: optionalNumber(options, "frequency_penalty", {min: -2, max: 2, ...param("frequency_penalty")}) ?? samplingDefaults.frequencyPenalty,
        seed: optionalSeed(options, "seed", "options.seed"),
        stop: stopStrings(options.stop, "options.stop", {single: true})
    };
}

/**
 * Ollama's messages → the conversation `chat` renders (system messages become the system text;
 * consecutive text turns of one role are joined). An assistant message may carry `tool_calls`
 * (`[{function: {name, arguments}}]`, no ids); a `tool` message is a result, named by its
 * `tool_name`, else taken to answer the calls before it in order, as Ollama's templates pair them.
 */
function parseMessages(value: readonly unknown[]): ToolTranscript {
    const system: string[] = [];
    const messages: ConversationMessage[] = [];
    let unanswered: string[] = [];
    value.forEach((item: unknown, index) => {
        const param = `messages[${index}]`;
        const fields = asObject(item, param);
        const {role} = fields;
        if (fields.images != null && !(Array.isArray(fields.images) && fields.images.length === 0)) throw invalidParam(`${param}.images`, imagesRefused);
        const content = fields.content ?? "";
        if (typeof content !== "string") throw invalidParam(`${param}.content`, `${param}.content must be a string.`);
        if (role === "system") {
            system.push(content);
            return;
        }
        if (role === "tool") {
            const name = optionalString(fields, "tool_name", `${param}.tool_name`) ?? unanswered.shift();
            messages.push({role: "tool", ...(name == null ? {} : {name}), content});
            return;
        }
        if (role !== "user" && role !== "assistant") throw invalidParam(`${param}.role`, `${param}.role must be system, user, assistant or tool.`);
        if (role === "assistant" && Array.isArray(fields.tool_calls) && fields.tool_calls.length > 0) {
            const toolCalls = parseAssistantToolCalls(fields.tool_calls, `${param}.tool_calls`);
            unanswered = toolCalls.map((call) => call.name);
            messages.push({role, content, toolCalls});
            return;
        }
        const last = messages.at(-1);
        if (last?.role === role && !("toolCalls" in last)) last.content += `\n\n${content}`;
        else messages.push({role, content});
    });
    // Only system messages are served as llama-server serves them; an assistant message last is a prefill the answer continues.
    return {system: system.length > 0 ? system.join("\n\n") : undefined, messages};
}
