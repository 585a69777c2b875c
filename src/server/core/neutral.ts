import type {SamplingOptions} from "../../generator/sampling.js";
import type {ChatTranscript} from "../../generator/chatMessages.js";
import type {StopReason} from "../../generator/result.js";
import type {HttpError} from "./httpError.js";

/**
 * What a dialect asks of the serving model once it has translated its request: no field names,
 * framing or defaults of any protocol (those stay in the dialect's folder).
 */
export type NeutralRequest = {
    sampling: SamplingOptions,
    /** Whether `text` events come while the answer is generated; without, only `done` (or a thrown error). */
    stream: boolean
} & ({kind: "chat", conversation: ChatTranscript} | {kind: "complete", prompt: string});

/** Tokens of one answer: the prompt's, of which `cached` were found in the KV cache, and the generated ones. */
export type Usage = {prompt: number, generated: number, cached: number};

/**
 * What the core reports while it serves a NeutralRequest, for the dialect to render (SSE chunks,
 * NDJSON lines, one JSON object). A request ends with exactly one `done` or `error`, or with nothing
 * when its client went away.
 */
export type GenerationEvent =
    /** The next piece of the answer (streamed requests only). */
    | {type: "text", text: string}
    /** The whole answer, why it ended and what it cost. */
    | {type: "done", text: string, stopReason: StopReason, usage: Usage, timings: Timings, stopSequence?: string}
    /** A failure after the first `text` event (the status is sent by then); before it, `generate` throws instead. */
    | {type: "error", error: HttpError};

/** The loaded model as the dialects see it. */
export type LoadedModel = {
    /** Tokens one request may hold (prompt and answer). */
    contextSize: number,
    /**
     * Serves one request, reporting its events to `onEvent`. Throws an HttpError (queue full, prompt
     * too long, shutting down, …) when it fails before any text was reported; `signal` is the client
     * going away, which ends the generation and frees its sequence.
     */
    generate(request: NeutralRequest, signal: AbortSignal, onEvent: (event: GenerationEvent) => void): Promise<void>,
    /** Tokens of the prompt a chat request with this conversation evaluates (Anthropic's count_tokens). */
    countChatTokens(conversation: ChatTranscript): number,
    /** The model file (Ollama's /api/tags and /api/show describe it) and where it runs (cpu, cuda, …). */
    path: string,
    backend: string
};

/**
 * Where an answer's time went (ms), for the dialects that report it (Ollama's durations): waiting
 * for a free sequence, evaluating the prompt (up to the first token), generating the rest.
 */
export type Timings = {queuedMs: number, promptMs: number, generateMs: number};
