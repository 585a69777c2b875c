import type {LlamaContextSequence, Token} from "node-llama-cpp";
import {UsageError} from "../../errors.js";
import {chatFormatFor, type ChatFormat} from "./chatTemplate.js";
import {type ChatMessage} from "../../generator/chatMessages.js";
import {ConversationTurns} from "../../generator/conversationTurns.js";
import {emptyToUndefined, withoutOpeningWhitespace} from "../../generator/chatMessages.js";
import {tokenizeAnswerText, tokenizeChatText} from "./chatTokens.js";
import {generate} from "../direct/generate.js";
import {type GenerationCallbacks} from "../generation/generationState.js";
import type {ConversationKvState} from "../../generator/textGenerator.js";
import type {GenerationResult} from "../../generator/result.js";
import type {SamplingOptions} from "../../generator/sampling.js";
import {nativeFilePath} from "../../windowsPaths.js";

export type ChatTurn = Omit<GenerationResult, "text"> & {
    /** The answer, without the whitespace the model opens it with. */
    content: string,
    /** Tokens the sequence holds after the answer, and how many it can hold. */
    context: {used: number, size: number},
    /** Oldest exchanges left out of the prompt (this turn) so the conversation fits the context. */
    droppedExchanges: number
};

export type ChatCallbacks = Pick<GenerationCallbacks, "onText" | "signal">;

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
 * A conversation with the model that keeps the KV cache between turns: each turn renders the whole
 * conversation, keeps what the sequence already holds of it and evaluates only the rest (the new
 * user turn; after /undo, /retry or /system, whatever changed). Answers keep the tokens the model
 * generated, so re-rendering reproduces the evaluated tokens exactly.
 */
export class ChatSession extends ConversationTurns<ChatTurn> {
    readonly format: ChatFormat;
    /** The tokens of each assistant message, by message index. */
    private answerTokens = new Map<number, readonly Token[]>();
    /** The first message the prompt still includes; earlier exchanges were shifted out. */
    private windowStart = 0;

    /** Set when the caller says which model file and settings the sequence runs (so /save can keep the state). */
    readonly kvState: ConversationKvState | undefined;

    constructor(private readonly sequence: LlamaContextSequence,
        options: {system?: string, format?: ChatFormat, stateOwner?: ConversationKvState["owner"]} = {}) {
        super(options.system);
        this.format = options.format ?? chatFormatFor(sequence.model);
        this.kvState = options.stateOwner == null ? undefined : {
            owner: options.stateOwner,
            snapshot: () => this.snapshot(),
            save: (file) => this.saveState(file),
            restore: (system, messages, snapshot, file) => this.restore(system, messages, snapshot, file)
        };
    }

    get contextSize(): number {
        return this.sequence.contextSize;
    }

    /** Tokens the sequence holds now. */
    get contextUsed(): number {
        return this.sequence.nextTokenIndex;
    }

    /** Forgets the conversation (the system text stays). */
    reset() {
        this.replace(this.system, []);
    }

    /** Replaces the conversation, e.g. with one loaded from a file; answers are tokenized from their text. */
    replace(system: string | undefined, messages: readonly ChatMessage[]) {
        this.system = emptyToUndefined(system);
        this.messages = messages.map((message) => ({...message}));
        this.answerTokens = new Map();
        this.messages.forEach((message, index) => {
            if (message.role === "assistant") this.answerTokens.set(index, this.tokenizeAnswer(message.content));
        });
        this.windowStart = 0;
    }

    /** The conversation's tokens, as /save records them beside the KV state. */
    snapshot(): ChatSnapshot {
        const answerTokens: Record<string, number[]> = {};
        for (const [index, tokens] of this.answerTokens) answerTokens[String(index)] = [...tokens];
        return {windowStart: this.windowStart, answerTokens, contextTokens: [...this.sequence.contextTokens]};
    }

    /**
     * Writes the sequence's KV state (node-llama-cpp's state file: the cells and their token list),
     * first erasing what no longer belongs to the conversation (after /undo, /reset or a /load as
     * text the sequence still holds older tokens), so the state is exactly a prefix of the
     * conversation. Returns the file's size; 0 (no file) when nothing of the conversation is held.
     */
    async saveState(file: string): Promise<number> {
        const rendered = this.messages.length === 0 ? [] : this.promptTokens();
        const held = this.sequence.contextTokens;
        let common = 0;
        while (common < held.length && common < rendered.length && held[common] === rendered[common]) common++;
        if (common < held.length) await this.sequence.eraseContextTokenRanges([{start: common, end: held.length}]);
        if (common === 0) return 0;
        return (await this.sequence.saveStateToFile(nativeFilePath(file))).fileSize;
    }

    /**
     * Replaces the conversation with a saved one and its KV state, so the next turn evaluates only
     * its new tokens. The caller has checked that the model file and the context settings are the
     * ones the state was saved with (a state from another model can crash llama.cpp); here the
     * tokens must agree: the saved tokens must begin the conversation as it renders now, and the
     * loaded state must hold exactly them. Anything else leaves the sequence empty and returns
     * false: the conversation is then evaluated on the next turn, as after a plain replace().
     */
    async restore(system: string | undefined, messages: readonly ChatMessage[], snapshot: ChatSnapshot, stateFile: string): Promise<boolean> {
        this.replace(system, messages);
        // Every answer needs the tokens it was generated as, or the rendering cannot match the state.
        const answers = messages.flatMap((message, index) => message.role === "assistant" ? [[index, snapshot.answerTokens[String(index)]] as const] : []);
        if (answers.some(([, tokens]) => !Array.isArray(tokens))) return false;
        for (const [index, tokens] of answers) this.answerTokens.set(index, tokens as Token[]);
        this.windowStart = Math.max(0, Math.min(snapshot.windowStart, messages.length - (messages.length % 2)));
        const rendered = this.promptTokens();
        const saved = snapshot.contextTokens;
        if (saved.length === 0 || saved.length > rendered.length || saved.some((token, index) => rendered[index] !== token)) {
            this.replace(system, messages);
            return false;
        }
        try {
            await this.sequence.loadStateFromFile(nativeFilePath(stateFile), {acceptRisk: true});
        } catch {
            await this.sequence.clearHistory();
            this.replace(system, messages);
            return false;
        }
        const loaded = this.sequence.contextTokens;
        if (loaded.length !== saved.length || loaded.some((token, index) => saved[index] !== token)) {
            await this.sequence.clearHistory();
            this.replace(system, messages);
            return false;
        }
        return true;
    }

    /** The tokens the next answer is generated after (the conversation ends with a user message). */
    promptTokens(): Token[] {
        const window = this.messages.slice(this.windowStart);
        const answers = new Map<number, readonly Token[]>();
        for (const [index, tokens] of this.answerTokens)
            if (index >= this.windowStart) answers.set(index - this.windowStart, tokens);
        return tokenizeChatText(this.format.render(this.system, window), this.sequence.model.tokenizer, answers);
    }

    protected async answer(sampling: SamplingOptions, {onText, signal}: ChatCallbacks): Promise<ChatTurn> {
        const {tokens: prompt, droppedExchanges} = this.fitPrompt(sampling.maxTokens);
        await this.alignSequence(prompt, droppedExchanges > 0);

        const generated: Token[] = [];
        const result = await generate(this.sequence, prompt.slice(this.sequence.nextTokenIndex), sampling, {
            signal,
            onToken: (token) => generated.push(token),
            onText: withoutOpeningWhitespace(onText)
        });
        const {text, ...rest} = result;
        const content = text.trimStart();
        const turn: ChatTurn = {
            ...rest,
            content,
            context: {used: this.sequence.nextTokenIndex, size: this.sequence.contextSize},
            droppedExchanges
        };
        if (result.stopReason === "abort" && generated.length === 0) {
            // Stopped before a word: nothing to keep, the user's message is taken back too.
            this.messages.pop();
            return turn;
        }
        this.messages.push({role: "assistant", content});
        // A stop string cut the text short of the generated tokens: keep what the user saw.
        this.answerTokens.set(this.messages.length - 1, result.stopReason === "stop" ? this.tokenizeAnswer(content) : generated);
        return turn;
    }

    /**
     * Leaves out the oldest exchanges until the prompt plus room for an answer fits the context
     * (the system text stays: it opens whichever user turn comes first).
     */
    private fitPrompt(maxTokens: number): {tokens: Token[], droppedExchanges: number} {
        const contextSize = this.sequence.contextSize;
        const answerRoom = Math.min(maxTokens, Math.floor(contextSize / 4));
        let droppedExchanges = 0;
        let tokens = this.promptTokens();
        while (tokens.length + answerRoom > contextSize && this.windowStart + 2 < this.messages.length) {
            this.windowStart += 2;
            droppedExchanges++;
            tokens = this.promptTokens();
        }
        if (tokens.length + 1 >= contextSize) {
            // The message alone does not fit: the exchanges left out for it come back.
            this.windowStart -= 2 * droppedExchanges;
            throw new UsageError(`This message needs ${tokens.length} tokens, more than the ${contextSize}-token context holds.`, {
                hint: "Shorten it, or raise --context-size."
            });
        }
        return {tokens, droppedExchanges};
    }

    /**
     * Keeps the longest prefix of the sequence that matches the prompt and erases the rest. After a
     * shift the kept tokens move up (llama.cpp shifts their positions) instead of being evaluated again.
     */
    private async alignSequence(prompt: Token[], shifted: boolean) {
        await this.sequence.adaptStateToTokens(prompt, shifted);
        // At least one token must be evaluated to get the next token's probabilities (e.g. /retry).
        if (this.sequence.nextTokenIndex >= prompt.length)
            await this.sequence.eraseContextTokenRanges([{start: prompt.length - 1, end: this.sequence.nextTokenIndex}]);
    }

    protected override dropLast() {
        this.messages.pop();
        this.answerTokens.delete(this.messages.length);
        this.windowStart = Math.min(this.windowStart, this.messages.length - (this.messages.length % 2));
    }

    private tokenizeAnswer(content: string): Token[] {
        return tokenizeAnswerText(this.sequence.model.tokenizer, content, this.format.answersFollowSpace);
    }
}
