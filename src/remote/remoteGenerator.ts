import type {ChatTurn} from "../generator/textGenerator.js";
import type {ChatMessage} from "../generator/chatMessages.js";
import {ConversationTurns} from "../generator/conversationTurns.js";
import {emptyToUndefined, withoutOpeningWhitespace} from "../generator/chatMessages.js";
import type {TextCallbacks, TextGenerator} from "../generator/textGenerator.js";
import type {ChatConversation} from "../generator/textGenerator.js";
import type {GenerationResult} from "../generator/result.js";
import type {SamplingOptions} from "../generator/sampling.js";
import {EndpointError, UsageError} from "../errors.js";
import {completeInOrder} from "../generator/completeInOrder.js";
import {describeEndpoint} from "./endpointUrl.js";
import {requestCompletion, type CompletionOutcome, type CompletionRoute, type EndpointConfig} from "./openAiClient.js";
import {stopReasonOf} from "./stopReasonOf.js";

export type RemoteTarget = EndpointConfig & {
    /** The model name sent in every request. */
    modelId: string,
    /** What --json reports as the model: the file's path for a local server, else the id. */
    modelLabel: string,
    /** OpenAI's response_format (--json-schema, --format json): the server constrains the output. */
    responseFormat?: Record<string, unknown>,
    /** Requests completeEach keeps in flight (complete --lines --parallel); 1 by default. */
    parallel?: number
};

/**
 * Our sampling flags in the request body. temperature, top_p, seed, stop and max_tokens are
 * OpenAI's; top_k, min_p and repeat_penalty are llama.cpp's names (llama-server and our server
 * read them, vLLM reads top_k and min_p, servers that know none of them ignore them).
 */
export function samplingBody(sampling: SamplingOptions): Record<string, unknown> {
    const body: Record<string, unknown> = {
        max_tokens: sampling.maxTokens,
        temperature: sampling.temperature,
        top_p: sampling.topP,
        top_k: sampling.topK,
        min_p: sampling.minP
    };
    if (sampling.seed != null) body.seed = sampling.seed;
    if (sampling.stop.length > 0) body.stop = sampling.stop;
    if (sampling.repeatPenalty !== 1) body.repeat_penalty = sampling.repeatPenalty;
    return body;
}

/** Logprobs asked for as each route takes them: completions the number of alternatives, chat a flag and top_logprobs. */
function logprobsBody(route: CompletionRoute, sampling: SamplingOptions): Record<string, unknown> {
    if (sampling.logprobs == null) return {};
    return route === "completions" ? {logprobs: sampling.logprobs} : {logprobs: true, top_logprobs: sampling.logprobs};
}

/** An outcome in the shape the local engine returns; the timings are what this client saw. */
export function resultOf(outcome: CompletionOutcome, sampling: SamplingOptions, endedAt: number): GenerationResult {
    const firstTokenMs = (outcome.firstTextAt ?? endedAt) - outcome.sentAt;
    const generateMs = outcome.firstTextAt == null ? 0 : endedAt - outcome.firstTextAt;
    // Without usage counts (a server that ignores include_usage) a chunk is about a token.
    const generated = outcome.usage?.completionTokens ?? outcome.textChunks;
    return {
        text: outcome.text,
        stopReason: stopReasonOf(outcome, sampling.stop.length > 0),
        tokens: {prompt: outcome.usage?.promptTokens ?? 0, generated},
        timings: {
            promptMs: firstTokenMs,
            firstTokenMs,
            generateMs,
            generatedTokensPerSecond: generateMs > 0 ? Math.max(0, generated - 1) / (generateMs / 1000) : 0
        },
        ...(outcome.logprobs == null ? {} : {logprobs: outcome.logprobs})
    };
}

async function generateRemotely(
    target: RemoteTarget, route: CompletionRoute, input: Record<string, unknown>, sampling: SamplingOptions, callbacks: TextCallbacks
): Promise<GenerationResult> {
    if (sampling.maxTokens === 0 || callbacks.signal?.aborted === true) {
        // Nothing to ask for (as the engine does for -n 0), or Ctrl+C came first.
        const now = performance.now();
        return resultOf({text: "", finishReason: "length", stopDetail: undefined, textChunks: 0, sentAt: now, aborted: callbacks.signal?.aborted === true}, sampling, now);
    }
    const outcome = await requestCompletion(target, {
        route,
        body: {model: target.modelId, ...input, ...samplingBody(sampling), ...logprobsBody(route, sampling),
            ...(target.responseFormat == null ? {} : {response_format: target.responseFormat})},
        stream: true,
        // -n holds whatever the server sends.
        maxTextChunks: sampling.maxTokens,
        signal: callbacks.signal,
        onText: callbacks.onText == null ? undefined : (text) => callbacks.onText?.(text)
    });
    const endedAt = performance.now();
    if (!outcome.aborted && outcome.finishReason == null)
        throw new EndpointError(`${describeEndpoint(target.baseUrl)} ended the stream before the answer was finished.`, {
            hint: "The server may have stopped or restarted; try again."
        });
    const result = resultOf(outcome, sampling, endedAt);
    // Constrained output is complete unless something cut it (the server's "length" included).
    if (target.responseFormat != null && result.stopReason !== "abort")
        result.complete = !(["maxTokens", "stop", "contextFull"] as const).some((reason) => reason === result.stopReason);
    return result;
}

/**
 * A conversation kept on this side: every turn sends the whole of it to /chat/completions, and
 * the server applies the model's chat template (and, like ours and llama-server, reuses the KV
 * cache of the shared prefix).
 */
export class RemoteConversation extends ConversationTurns<ChatTurn> implements ChatConversation {
    readonly format = {description: "the server's chat template"};
    private used = 0;

    constructor(private readonly target: RemoteTarget, options: {system?: string}) {
        super(options.system);
    }

    /** The server does not say how large its context is. */
    get contextSize() {
        return 0;
    }

    get contextUsed() {
        return this.used;
    }

    reset() {
        this.messages = [];
        this.used = 0;
    }

    replace(system: string | undefined, messages: readonly ChatMessage[]) {
        this.system = emptyToUndefined(system);
        this.messages = messages.map((message) => ({...message}));
        this.used = 0;
    }

    protected async answer(sampling: SamplingOptions, {onText, signal}: TextCallbacks): Promise<ChatTurn> {
        const messages = [...(this.system == null ? [] : [{role: "system", content: this.system}]), ...this.messages];
        const result = await generateRemotely(this.target, "chat/completions", {messages}, sampling, {
            signal,
            onText: withoutOpeningWhitespace(onText)
        });
        const {text, ...rest} = result;
        const content = text.trimStart();
        this.used = result.tokens.prompt + result.tokens.generated;
        const turn: ChatTurn = {...rest, content, context: {used: this.used, size: 0}, droppedExchanges: 0};
        if (result.stopReason === "abort" && content === "") {
            this.messages.pop();
            return turn;
        }
        this.messages.push({role: "assistant", content});
        return turn;
    }
}

/** The generator that sends every request to an OpenAI-compatible server. */
export function remoteGenerator(target: RemoteTarget): TextGenerator {
    const parallel = target.parallel ?? 1;
    return {
        info: {model: target.modelLabel, backend: "server", threads: null, loadMs: 0, parallel, endpoint: describeEndpoint(target.baseUrl)},
        complete: (prompt, sampling, callbacks = {}) => generateRemotely(target, "completions", {prompt}, sampling, callbacks),
        // One request a prompt, `parallel` at a time: the server batches them as it batches any clients.
        completeEach: (prompts, sampling, {signal} = {}) =>
            completeInOrder(prompts, parallel, (prompt) => generateRemotely(target, "completions", {prompt}, sampling, {signal})),
        startChat: ({system}) => new RemoteConversation(target, {system}),
        dispose: async () => {}
    };
}
