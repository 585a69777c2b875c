/**
 * "One generator, two places it runs": `complete` and `chat` talk to this interface, implemented
 * by the engine in this process (engine/localGenerator.ts) and by any OpenAI-compatible server
 * over HTTP (remote/remoteGenerator.ts). Types only, so the remote path never loads node-llama-cpp.
 */
import type {ChatMessage} from "./chatMessages.js";
import type {GenerationResult} from "./result.js";
import type {SamplingOptions} from "./sampling.js";

export type TextCallbacks = {
    /** Text as it is generated. */
    onText?: (text: string) => void,
    /** Ctrl+C: ends the answer; the result has stopReason "abort". */
    signal?: AbortSignal
};

/** What --json and --verbose say about where the text came from. */
export type GeneratorInfo = {
    /** The model file's path (local, or a local server's), else the id the server gave. */
    model: string,
    /** cpu, cuda, metal, vulkan; "server" when a server generates. */
    backend: string,
    /** The engine's CPU threads; null when a server decides. */
    threads: number | null,
    /** Loading the model; 0 through a server (it was loaded before). */
    loadMs: number,
    /** Prompts completeEach runs at once: the engine's sequences, or a server's concurrent requests. */
    parallel: number,
    /** The server's base URL when one generates. */
    endpoint?: string,
    /** Engine here: the file's quant (Q4_K_M) and the layers offloaded to the GPU. */
    quant?: string,
    gpuLayers?: number,
    /** Engine here: the experts each token is routed to, and the file's own count (mixture-of-experts files). */
    experts?: {used: number, expertCount: number, fileUsed: number}
};

/** A chat answer: the generation's result with the conversation's view of it. */
export type ChatTurn = Omit<GenerationResult, "text"> & {
    /** The answer, without the whitespace the model opens it with. */
    content: string,
    /** Tokens the sequence holds after the answer, and how many it can hold. */
    context: {used: number, size: number},
    /** Oldest exchanges left out of the prompt (this turn) so the conversation fits the context. */
    droppedExchanges: number
};

/**
 * What, beyond the messages, makes a saved KV state usable again: the tokens each answer was
 * generated as (re-tokenizing the text can differ), the first message still in the prompt, and the
 * tokens the sequence held when saved.
 */
export type ChatSnapshot = {
    windowStart: number,
    /** Message index → the answer's tokens. */
    answerTokens: Record<string, number[]>,
    contextTokens: number[]
};

/**
 * A conversation in progress: the user's side and the answers. The local one keeps the KV cache
 * between turns; the remote one sends the whole conversation each turn (the server reuses its cache).
 */
export type ChatConversation = {
    readonly format: {description: string},
    readonly systemPrompt: string | undefined,
    readonly history: readonly ChatMessage[],
    /** Tokens the context can hold; 0 when a server does not say. */
    readonly contextSize: number,
    /** Tokens the context holds now (as far as is known). */
    readonly contextUsed: number,
    setSystem(text: string | undefined): void,
    reset(): void,
    replace(system: string | undefined, messages: readonly ChatMessage[]): void,
    send(text: string, sampling: SamplingOptions, callbacks?: TextCallbacks): Promise<ChatTurn>,
    retry(sampling: SamplingOptions, callbacks?: TextCallbacks): Promise<ChatTurn>,
    undo(): boolean,
    /** Only the engine in this process has a KV state that /save can keep (see cli/chat/chatStateFile.ts). */
    readonly kvState?: ConversationKvState
};

/** The KV state of a local conversation, and what it belongs to. */
export type ConversationKvState = {
    /** The model file and context settings a saved state must match to be loaded. */
    readonly owner: {modelPath: string, contextSize: number, typeK: string, typeV: string, flashAttention: string,
        /** --experts when it is not the file's own count (K/V computed with other experts differ). */
        expertsUsed?: number},
    snapshot(): ChatSnapshot,
    save(file: string): Promise<number>,
    restore(system: string | undefined, messages: readonly ChatMessage[], snapshot: ChatSnapshot, file: string): Promise<boolean>
};

export type TextGenerator = {
    readonly info: GeneratorInfo,
    /** A raw completion of the prompt (BOS added as llama.cpp's tools do). */
    complete(prompt: string, sampling: SamplingOptions, callbacks?: TextCallbacks): Promise<GenerationResult>,
    /**
     * Completes each prompt as `complete` would complete it alone, `info.parallel` at a time, and
     * yields the results in the prompts' order (a later prompt runs ahead while an earlier one
     * finishes). Aborting ends the ones in flight with stopReason "abort".
     */
    completeEach(prompts: AsyncIterable<string>, sampling: SamplingOptions, options?: {signal?: AbortSignal}): AsyncIterable<GenerationResult>,
    startChat(options: {system?: string}): ChatConversation,
    /**
     * Before the first startChat: tries the model's chat template under a time and size budget
     * (it is code from the file); the note says why Mistral's format is used instead, if it is.
     * Only the engine here renders templates; a server does its own.
     */
    prepareChat?(options: {signal?: AbortSignal, onProbe?: () => void}): Promise<string | undefined>,
    dispose(): Promise<void>
};
