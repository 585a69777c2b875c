import type {Token} from "node-llama-cpp";
import {withoutOpeningWhitespace, type ChatTranscript} from "../../generator/chatMessages.js";
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
    /** Why the model's own chat template is not used (it loops, is huge or fails), when so. */
    chatFormatNote?: string,
    loadMs: number,
    /** A raw completion, tokenized as `mixtral complete` does (same greedy output). */
    complete(prompt: string, sampling: SamplingOptions, callbacks?: ServingCallbacks): Promise<SchedulerResult>,
    /** A chat answer, prompted as `mixtral chat` does; the answer's leading whitespace is dropped, as chat does. */
    chat(conversation: ChatTranscript, sampling: SamplingOptions, callbacks?: ServingCallbacks): Promise<SchedulerResult>,
    /** The tokens of the prompt `chat` would evaluate for this conversation (Anthropic's count_tokens). */
    countChatTokens(conversation: ChatTranscript): number,
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
     * The prompt of a chat request. An assistant message last is a prefill: the answer continues it
     * (its tokens close the prompt, where the answer would start), as llama-server and Anthropic's API do.
     */
    const chatPrompt = ({system, messages}: ChatTranscript) => {
        const last = messages.at(-1);
        const prefill = last?.role === "assistant" ? last.content : undefined;
        const turns = prefill == null ? messages : messages.slice(0, -1);
        const answers = new Map<number, readonly Token[]>();
        turns.forEach((message, index) => {
            if (message.role === "assistant") answers.set(index, tokenizeAnswer(message.content));
        });
        const tokens = tokenizeChatText(format.render(system, turns), model.tokenizer, answers);
        if (prefill != null && prefill !== "") appendAll(tokens, tokenizeAnswer(prefill));
        return {tokens, prefill: prefill != null};
    };
    /**
     * Refuses a chat that cannot fit before rendering it (60,000 messages take seconds to render and
     * tokenize): each message is at least one token, and its text at least its bytes over the longest token's.
     */
    const checkChatFits = ({system, messages}: ChatTranscript) => {
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
        chatFormatNote: formatNote,
        loadMs: opened.loadMs,
        async complete(prompt, sampling, callbacks = {}) {
            // Bytes first (cheap), then tokens in slices: a huge prompt neither stalls other streams nor is tokenized in vain.
            checkTextFits(Buffer.byteLength(prompt), vocabulary, contextSize);
            const tokens = await tokenizeInSlices(model, vocabulary, prompt, contextSize);
            return scheduler.submit({promptTokens: withBos(model, tokens), sampling, ...callbacks});
        },
        async chat(conversation, sampling, {signal, onText, onLogprob} = {}) {
            checkChatFits(conversation);
            const {tokens: promptTokens, prefill} = chatPrompt(conversation);
            // A prefill's continuation keeps its opening space (" 42" after "The answer is").
            if (prefill) return scheduler.submit({promptTokens, sampling, signal, onLogprob, onText});
            const result = await scheduler.submit({promptTokens, sampling, signal, onLogprob, onText: withoutOpeningWhitespace(onText)});
            return {...result, text: result.text.trimStart()};
        },
        countChatTokens: (conversation) => chatPrompt(conversation).tokens.length,
        get stats() {
            return scheduler.stats;
        },
        async close() {
            await scheduler.close();
            await opened.dispose();
        }
    };
}
