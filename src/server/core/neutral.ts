import type {SamplingOptions} from "../../generator/sampling.js";
import type {ToolCall, ToolTranscript} from "../../generator/chatMessages.js";
import type {StopReason, TokenLogprob} from "../../generator/result.js";
import type {HttpError} from "./httpError.js";

/** A function the model may call: its name, what it does, and its arguments' JSON Schema. */
export type ToolDefinition = {name: string, description?: string, parameters: Record<string, unknown>};

/**
 * Whether the model must call a tool: "auto" (a text answer or calls), "none" (text; the tools are
 * not offered), "required" (at least one call), or the one named function.
 */
export type ToolChoice = "auto" | "none" | "required" | {name: string};

/**
 * What a dialect asks of the serving model once it has translated its request: no field names,
 * framing or defaults of any protocol (those stay in the dialect's folder).
 */
export type NeutralRequest = {
    sampling: SamplingOptions,
    /** Whether `text` events come while the answer is generated; without, only `done` (or a thrown error). */
    stream: boolean
} & ({
    kind: "chat",
    conversation: ToolTranscript,
    /** Functions the model may call (chat only); none or empty: a plain text answer. */
    tools?: readonly ToolDefinition[],
    /** "auto" when not given. */
    toolChoice?: ToolChoice,
    /** Whether one answer may hold several calls (true when not given, as OpenAI's default). */
    parallelToolCalls?: boolean
} | {kind: "complete", prompt: string});

/** What of a chat request makes its prompt: the conversation, and the tools the choice offers. */
export type ChatPrompt = Pick<Extract<NeutralRequest, {kind: "chat"}>, "conversation" | "tools" | "toolChoice" | "parallelToolCalls">;

/** Tokens of one answer: the prompt's, of which `cached` were found in the KV cache, and the generated ones. */
export type Usage = {prompt: number, generated: number, cached: number};

/** Why an answer ended: the engine's reasons, or "toolCalls" when it is calls of tools. */
export type NeutralStopReason = StopReason | "toolCalls";

/**
 * What the core reports while it serves a NeutralRequest, for the dialect to render (SSE chunks,
 * NDJSON lines, one JSON object). A request ends with exactly one `done` or `error`, or with nothing
 * when its client went away.
 */
export type GenerationEvent =
    /**
     * The next piece of the answer (streamed requests only), with the logprobs of the tokens that
     * made it when the sampling asked for them (a token's text may span two pieces: it comes with the first).
     */
    | {type: "text", text: string, logprobs?: TokenLogprob[]}
    /** A whole call of a tool, `index` counting from 0 in the answer (streamed requests only; `done` lists them all). */
    | {type: "toolCall", index: number, call: ToolCall}
    /**
     * The whole answer, why it ended and what it cost. With tools, `text` is the answer's text part
     * (empty when it called tools) and `toolCalls` the calls; `logprobs` are every generated token's
     * when the sampling asked for them (streamed or not).
     */
    | {type: "done", text: string, toolCalls: readonly ToolCall[], stopReason: NeutralStopReason, usage: Usage, timings: Timings,
        logprobs?: TokenLogprob[], stopSequence?: string}
    /** A failure after the first `text` event (the status is sent by then); before it, `generate` throws instead. */
    | {type: "error", error: HttpError};

/** The loaded model as the dialects see it. */
export type LoadedModel = {
    /** Tokens one request may hold (prompt and answer). */
    contextSize: number,
    /**
     * Serves one request, reporting its events to `onEvent`. Throws an HttpError (queue full, prompt
     * too long, shutting down, a tool's schema the grammar cannot honour, …) when it fails before any
     * text was reported; `signal` is the client going away, which ends the generation and frees its sequence.
     */
    generate(request: NeutralRequest, signal: AbortSignal, onEvent: (event: GenerationEvent) => void): Promise<void>,
    /** Tokens of the prompt a chat request with this conversation (and these tools) evaluates (Anthropic's count_tokens). */
    countChatTokens(request: ChatPrompt): number,
    /** The model file (Ollama's /api/tags and /api/show describe it) and where it runs (cpu, cuda, …). */
    path: string,
    backend: string
};

/**
 * Where an answer's time went (ms), for the dialects that report it (Ollama's durations): waiting
 * for a free sequence, evaluating the prompt (up to the first token), generating the rest.
 */
export type Timings = {queuedMs: number, promptMs: number, generateMs: number};
