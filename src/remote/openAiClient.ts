import type {IncomingMessage} from "node:http";
import {EndpointError, InterruptedError} from "../errors.js";
import {defaultClientTimeouts, type ClientTimeouts} from "./clientTimeouts.js";
import {describeEndpoint, endpointRoute} from "./endpointUrl.js";
import {openRequest, readBody, RequestAborted, networkError, notStartedError, wentSilentError} from "./httpRequest.js";
import {notOpenAiError, printable, streamError} from "./openAiErrors.js";
import {EventLineTooLong, ServerSentEventParser} from "./serverSentEvents.js";
import type {TokenLogprob} from "../generator/result.js";
import {logprobsOfChoice} from "./remoteLogprobs.js";

/** Where the server is and how to authenticate to it. */
export type EndpointConfig = {
    baseUrl: URL,
    /** MIXTRAL_API_KEY; sent as a Bearer token. */
    apiKey?: string,
    /** --connect-timeout and --idle-timeout; defaultClientTimeouts when not given. */
    timeouts?: ClientTimeouts
};

export type Usage = {promptTokens: number, completionTokens: number};

/** What one completion request produced, streamed or not. */
export type CompletionOutcome = {
    text: string,
    /** OpenAI's finish_reason: "stop", "length", …; null when the stream was cut or aborted. */
    finishReason: string | null,
    /**
     * vLLM's stop_reason beside finish_reason: the stop string that matched, a stop token id, or
     * null for the end-of-sequence token; undefined when the server does not send it.
     */
    stopDetail: string | number | null | undefined,
    usage?: Usage,
    /** Chunks that carried text (a server may put several tokens in one). */
    textChunks: number,
    /** performance.now() when the request was sent, the first text arrived, the last text arrived. */
    sentAt: number,
    firstTextAt?: number,
    lastTextAt?: number,
    /** The signal ended it before the server did. */
    aborted: boolean,
    /** Each generated token's logprobs, when the request asked for them (`logprobs` in the body). */
    logprobs?: TokenLogprob[]
};

export type CompletionRoute = "completions" | "chat/completions";

export type CompletionRequest = {
    route: CompletionRoute,
    /** The OpenAI request body without `stream` (set here). */
    body: Record<string, unknown>,
    stream: boolean,
    signal?: AbortSignal,
    /**
     * -n: text chunks past this many are not read (the connection is closed, finish_reason
     * "length"), whatever the server sends. A chunk is at least one token.
     */
    maxTextChunks?: number,
    /** Each piece of text as it arrives, with its arrival time. */
    onText?: (text: string, at: number) => void
};

// GET /models answers at once on any live server. Completions get the whole --connect-timeout: a
// server may hold the headers until the first token (ours does), after a queue and a long prompt.
const listTimeoutMs = 30_000;

async function getJson(config: EndpointConfig, route: string, signal?: AbortSignal): Promise<unknown> {
    let text: string;
    try {
        const {firstByteMs, idleMs} = config.timeouts ?? defaultClientTimeouts;
        const response = await openRequest({
            method: "GET", url: endpointRoute(config.baseUrl, route), endpoint: config.baseUrl, apiKey: config.apiKey, signal,
            firstByteTimeoutMs: Math.min(firstByteMs, listTimeoutMs), idleTimeoutMs: idleMs
        });
        text = await readBody(response, {limit: 16 * 1024 * 1024, idleTimeoutMs: idleMs, endpoint: config.baseUrl});
    } catch (error) {
        if (error instanceof RequestAborted || signal?.aborted === true) throw new InterruptedError("Interrupted.", {cause: error});
        if ((error as NodeJS.ErrnoException | undefined)?.code != null) throw networkError(config.baseUrl, error);
        throw error;
    }
    try {
        return JSON.parse(text);
    } catch (error) {
        throw notOpenAiError(config.baseUrl, `GET ${route} sent no JSON`, error);
    }
}

/** The ids `GET /v1/models` lists, in its order. */
export async function listModelIds(config: EndpointConfig, signal?: AbortSignal): Promise<string[]> {
    const body = await getJson(config, "models", signal) as {data?: unknown} | null;
    if (body == null || !Array.isArray(body.data)) throw notOpenAiError(config.baseUrl, "GET /models has no data list");
    return body.data
        .map((entry: unknown) => (entry as {id?: unknown} | null)?.id)
        .filter((id): id is string => typeof id === "string");
}

type Choice = {
    logprobs?: unknown,
    text?: unknown,
    delta?: {content?: unknown},
    message?: {content?: unknown},
    finish_reason?: unknown,
    stop_reason?: unknown
};

function firstChoice(body: unknown): Choice | undefined {
    const choices = (body as {choices?: unknown} | null)?.choices;
    return (Array.isArray(choices) ? choices[0] : undefined) as Choice | undefined;
}

/** The text a choice carries: `text` in /completions, `delta.content` streamed and `message.content` whole in /chat/completions. */
function choiceText(choice: Choice): string {
    const value = choice.text ?? choice.delta?.content ?? choice.message?.content;
    return typeof value === "string" ? value : "";
}

function usageOf(body: {usage?: unknown}): Usage | undefined {
    const usage = body.usage as {prompt_tokens?: unknown, completion_tokens?: unknown} | null | undefined;
    if (usage == null || typeof usage.prompt_tokens !== "number" || typeof usage.completion_tokens !== "number") return undefined;
    return {promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens};
}

/**
 * POST /completions or /chat/completions. Streaming asks for the usage chunk at the end
 * (stream_options.include_usage); a server that answers a stream request with one JSON body is
 * read as a non-streaming answer. Aborting the signal closes the connection (the server stops
 * generating) and resolves with what arrived, `aborted: true`.
 */
export async function requestCompletion(config: EndpointConfig, request: CompletionRequest): Promise<CompletionOutcome> {
    const body = request.stream
        ? {...request.body, stream: true, stream_options: {include_usage: true}}
        : {...request.body, stream: false};
    // Asked for (completions: the number of alternatives; chat: top_logprobs), each choice carries them.
    const logprobsTop = typeof request.body.logprobs === "number" ? request.body.logprobs
        : request.body.logprobs === true ? Number(request.body.top_logprobs ?? 0) : undefined;
    const outcome: CompletionOutcome = {
        text: "", finishReason: null, stopDetail: undefined, textChunks: 0, sentAt: performance.now(), aborted: false
    };
    const addText = (text: string) => {
        if (text === "") return;
        const at = performance.now();
        outcome.firstTextAt ??= at;
        outcome.lastTextAt = at;
        outcome.textChunks++;
        outcome.text += text;
        request.onText?.(text, at);
    };
    const addBody = (parsed: unknown) => {
        const error = streamError(config.baseUrl, parsed);
        if (error != null) throw error;
        const object = parsed as {choices?: unknown, usage?: unknown};
        if (object == null || typeof object !== "object") throw notOpenAiError(config.baseUrl, "a chunk that is not an object");
        const choice = firstChoice(object);
        if (choice != null) {
            if (logprobsTop != null) (outcome.logprobs ??= []).push(...logprobsOfChoice(choice.logprobs, logprobsTop));
            addText(choiceText(choice));
            if (typeof choice.finish_reason === "string") outcome.finishReason = choice.finish_reason;
            if ("stop_reason" in choice && (typeof choice.stop_reason === "string" || typeof choice.stop_reason === "number" || choice.stop_reason === null))
                outcome.stopDetail = choice.stop_reason;
        }
        outcome.usage = usageOf(object) ?? outcome.usage;
    };

    const {firstByteMs, idleMs} = config.timeouts ?? defaultClientTimeouts;
    let response: IncomingMessage;
    try {
        response = await openRequest({
            method: "POST", url: endpointRoute(config.baseUrl, request.route), endpoint: config.baseUrl,
            body, apiKey: config.apiKey, signal: request.signal, firstByteTimeoutMs: firstByteMs, idleTimeoutMs: idleMs
        });
    } catch (error) {
        if (error instanceof RequestAborted) return {...outcome, aborted: true};
        throw error;
    }

    // Until the first event the server may still be reading the prompt: the rest of
    // --connect-timeout; then --idle-timeout between events. Comments (keep-alives) do not count.
    const startBy = outcome.sentAt + firstByteMs;
    let silence: NodeJS.Timeout | undefined;
    const expectEvent = (first: boolean) => {
        clearTimeout(silence);
        const wait = first ? Math.max(0, startBy - performance.now()) : idleMs;
        silence = setTimeout(() => response.destroy(first ? notStartedError(config.baseUrl, firstByteMs) : wentSilentError(config.baseUrl, idleMs)), wait);
    };
    try {
        const contentType = String(response.headers["content-type"] ?? "");
        if (!contentType.includes("text/event-stream")) {
            const text = await readBody(response, {idleTimeoutMs: idleMs, endpoint: config.baseUrl});
            let parsed: unknown;
            try {
                parsed = JSON.parse(text);
            } catch (error) {
                throw notOpenAiError(config.baseUrl, `POST /${request.route} sent neither JSON nor an event stream`, error);
            }
            addBody(parsed);
            return outcome;
        }
        const parser = new ServerSentEventParser();
        const maxTextChunks = request.maxTextChunks ?? Infinity;
        /** True when the answer is over: [DONE], or more text than -n asked for. */
        const handle = (events: string[]): boolean => {
            for (const data of events) {
                expectEvent(false);
                if (data.trim() === "[DONE]") return true;
                let parsed: unknown;
                try {
                    parsed = JSON.parse(data);
                } catch (error) {
                    throw notOpenAiError(config.baseUrl, `an event that is not JSON: ${printable(data.slice(0, 80))}`, error);
                }
                if (outcome.textChunks >= maxTextChunks && choiceText(firstChoice(parsed) ?? {}) !== "") {
                    outcome.finishReason = "length";
                    return true;
                }
                addBody(parsed);
            }
            return false;
        };
        expectEvent(true);
        for await (const chunk of response as AsyncIterable<Buffer>)
            if (handle(parser.push(chunk))) {
                response.destroy();
                return outcome;
            }
        handle(parser.end());
        return outcome;
    } catch (error) {
        response.destroy();
        if (request.signal?.aborted === true) return {...outcome, aborted: true};
        if (error instanceof EventLineTooLong) throw notOpenAiError(config.baseUrl, error.message, error);
        // The headers came, so the server was reached: it went away in the middle of its answer.
        if ((error as NodeJS.ErrnoException | undefined)?.code != null || (error instanceof Error && error.message === "aborted"))
            throw new EndpointError(`${describeEndpoint(config.baseUrl)} closed the connection ${outcome.text === "" ? "before its answer began" : "mid-answer"}.`, {
                hint: outcome.text === "" ? "The server may have stopped, crashed or restarted; try again."
                    : "What was printed is only part of the answer; the server may have stopped, crashed or restarted.",
                cause: error
            });
        throw error;
    } finally {
        clearTimeout(silence);
    }
}
