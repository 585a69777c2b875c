import type {Token} from "node-llama-cpp";
import type {ChatTranscript} from "../../generator/chatMessages.js";
import {isToolCallsMessage, withoutOpeningWhitespace, type ToolTranscript} from "../../generator/chatMessages.js";
import type {ToolCallSyntax, ToolSpec} from "../../generator/templateTools.js";
import type {SamplingOptions} from "../../generator/sampling.js";
import type {TokenLogprob} from "../../generator/result.js";
import {chatFormatWithinBudget} from "../chat/chatFormatWithinBudget.js";
import type {ChatFormat} from "../chat/chatTemplate.js";
import {tokenizeAnswerText, tokenizeChatText} from "../chat/chatTokens.js";
import {appendAll} from "../generation/appendAll.js";
import {checkTextFits, promptTooLongError, readVocabulary, tokenizeInSlices} from "../generation/promptSize.js";
import {withBos} from "../generation/tokenizePrompt.js";
import {openModel, type OpenModelOptions, type OpenedModel} from "../load/openModel.js";
import type {Backend} from "../../hardware/types.js";
import type {BatchScheduler} from "./batchScheduler.js";
import type {SchedulerResult, SchedulerStats} from "./batchScheduler.js";
import {openBatch} from "./openBatch.js";

export type ServingModelOptions = Omit<OpenModelOptions, "sequences" | "contextSize" | "fewerSequencesIfShort"> & {
    /** Sequences decoded together: exactly `n`, or (`{upTo: n}`) as many as fit in free memory, at most n. */
    parallel: number | {upTo: number},
    /** Tokens each sequence (each request: prompt + answer) may hold; the default of openModel (chat's) when not given. */
    contextSizePerSequence?: number,
    /** Requests that may wait for a free sequence. */
    queueLimit: number
};

export type ServingCallbacks = {
    signal?: AbortSignal,
    onText?: (text: string) => void,
    /** Each generated token's logprobs as it is sampled (before its text), when the sampling asks for them. */
    onLogprob?: (entry: TokenLogprob) => void
};

/**
 * A model held by `mixtral serve`: one context with `parallel` sequences behind a BatchScheduler,
 * taking text (a raw prompt, or a conversation rendered with the chat template of `chat`) so that
 * the HTTP layer never sees tokens or node-llama-cpp.
 */
export type ServingModel = {
    path: string,
    backend: Backend,
    threads: number,
    parallel: number,
    /** Tokens one request may hold. */
    contextSize: number,
    chatFormat: string,
    /** The KV cache's types and flash attention, and why (hardware/kvCacheForUse.ts). */
    kvCache: OpenedModel["kvCache"],
    kvCacheReason: string,
    /** Why the model's own chat template is not used (it loops, is huge or fails), when so. */
    chatFormatNote?: string,
    loadMs: number,
    /** A raw completion, tokenized as `mixtral complete` does (same greedy output). */
    complete(prompt: string, sampling: SamplingOptions, callbacks?: ServingCallbacks): Promise<SchedulerResult>,
    /**
     * A chat answer, prompted as `mixtral chat` does; the answer's leading whitespace is dropped, as
     * chat does. Tool calls and results in the conversation, and `tools`, need `toolSyntax` (the
     * template renders them); without it the caller renders them as text first.
     */
    chat(conversation: ToolTranscript, sampling: SamplingOptions, callbacks?: ServingCallbacks, tools?: readonly ToolSpec[]): Promise<SchedulerResult>,
    /** The tokens of the prompt `chat` would evaluate for this conversation and tools (Anthropic's count_tokens). */
    countChatTokens(conversation: ToolTranscript, tools?: readonly ToolSpec[]): number,
    /** How the model writes calls, when its chat template has tool support of its own (e.g. Mistral's v3 template). */
    toolSyntax?: ToolCallSyntax,
    readonly stats: SchedulerStats,
    /** Ends running and queued requests (stopReason "abort"), then frees the model. */
    close(): Promise<void>
};

export async function openServingModel(options: ServingModelOptions): Promise<ServingModel> {
    const {parallel, contextSizePerSequence, queueLimit, ...modelOptions} = options;
    const opened: OpenedModel = typeof parallel === "number"
        ? await openModel({...modelOptions, contextSize: contextSizePerSequence, sequences: parallel})
        : await openModel({...modelOptions, contextSize: contextSizePerSequence, sequences: parallel.upTo, fewerSequencesIfShort: true});
    let scheduler: BatchScheduler;
    let format: ChatFormat;
    let formatNote: string | undefined;
    try {
        scheduler = openBatch(opened, opened.sequences, queueLimit);
        // Rendered under a time and size budget, as chat does: a looping template must not hang the server.
        ({format, note: formatNote} = await chatFormatWithinBudget(opened.model, {signal: options.signal}));
    } catch (error) {
        await opened.dispose();
        throw error;
    }
    const model = opened.model;
    const contextSize = opened.context.contextSize;
    const vocabulary = readVocabulary(model);
    const tokenizeAnswer = (content: string) => tokenizeAnswerText(model.tokenizer, content, format.answersFollowSpace);
    /**
     * The prompt of a chat request. An assistant message last (without tool calls) is a prefill: the
     * answer continues it (its tokens close the prompt, where the answer would start), as llama-server
     * and Anthropic's API do.
     */
    const chatPrompt = ({system, messages}: ToolTranscript, tools: readonly ToolSpec[] = []) => {
        const last = messages.at(-1);
        const prefill = last?.role === "assistant" && !isToolCallsMessage(last) ? last.content : undefined;
        const turns = prefill == null ? messages : messages.slice(0, -1);
        const answers = new Map<number, readonly Token[]>();
        turns.forEach((message, index) => {
            if (message.role === "assistant") answers.set(index, tokenizeAnswer(message.content));
        });
        const withTools = tools.length > 0 || turns.some((message) => message.role === "tool" || "toolCalls" in message);
        if (withTools && format.tools == null) throw new Error("Tools and tool messages need a chat template with tool support; render them as text first.");
        const tokens = withTools ? tokenizeChatText(format.tools!.render(system, turns, tools), model.tokenizer, answers)
            : tokenizeChatText(format.render(system, turns as ChatTranscript["messages"]), model.tokenizer, answers);
        if (prefill != null && prefill !== "") appendAll(tokens, tokenizeAnswer(prefill));
        return {tokens, prefill: prefill != null};
    };
    /**
     * Refuses a chat that cannot fit before rendering it (60,000 messages take seconds to render and
     * tokenize): each message is at least one token, and its text at least its bytes over the longest token's.
     */
    const checkChatFits = ({system, messages}: ToolTranscript) => {
        if (messages.length > contextSize - 2) throw promptTooLongError(`at least ${messages.length}`, contextSize);
        let bytes = system == null ? 0 : Buffer.byteLength(system);
        for (const message of messages) bytes += Buffer.byteLength(message.content);
        checkTextFits(bytes, vocabulary, contextSize);
    };

    return {
        path: opened.file.path,
        backend: opened.backend,
        threads: opened.threads,
        parallel: opened.sequences,
        contextSize: opened.context.contextSize,
        chatFormat: format.description,
        kvCache: opened.kvCache,
        kvCacheReason: opened.kvCacheReason,
        chatFormatNote: formatNote,
        loadMs: opened.loadMs,
        async complete(prompt, sampling, callbacks = {}) {
            // Bytes first (cheap), then tokens in slices: a huge prompt neither stalls other streams nor is tokenized in vain.
            checkTextFits(Buffer.byteLength(prompt), vocabulary, contextSize);
            const tokens = await tokenizeInSlices(model, vocabulary, prompt, contextSize);
            return scheduler.submit({promptTokens: withBos(model, tokens), sampling, ...callbacks});
        },
        async chat(conversation, sampling, {signal, onText, onLogprob} = {}, tools) {
            checkChatFits(conversation);
            const {tokens: promptTokens, prefill} = chatPrompt(conversation, tools);
            // A prefill's continuation keeps its opening space (" 42" after "The answer is").
            if (prefill) return scheduler.submit({promptTokens, sampling, signal, onLogprob, onText});
            const result = await scheduler.submit({promptTokens, sampling, signal, onLogprob, onText: withoutOpeningWhitespace(onText)});
            return {...result, text: result.text.trimStart()};
        },
        countChatTokens: (conversation, tools) => chatPrompt(conversation, tools).tokens.length,
        ...(format.tools == null ? {} : {toolSyntax: format.tools.syntax}),
        get stats() {
            return scheduler.stats;
        },
        async close() {
            await scheduler.close();
            await opened.dispose();
        }
    };
}
