/**
 * The user's side of a chat, the same whether the engine runs here (engine/chat/chatSession.ts) or a
 * server does (remote/remoteGenerator.ts): the system text, the messages, and the turn rules of
 * send, /retry and /undo. Subclasses generate the answer and say what dropping a message also
 * drops (the local one: the answer's tokens). No node-llama-cpp here: the remote path imports it.
 */
import {UsageError} from "../errors.js";
import {emptyToUndefined, type ChatMessage} from "./chatMessages.js";
import type {SamplingOptions} from "./sampling.js";
import type {TextCallbacks} from "./textGenerator.js";

export abstract class ConversationTurns<Turn> {
    protected system: string | undefined;
    protected messages: ChatMessage[] = [];

    protected constructor(system: string | undefined) {
        this.system = emptyToUndefined(system);
    }

    get systemPrompt(): string | undefined {
        return this.system;
    }

    get history(): readonly ChatMessage[] {
        return this.messages;
    }

    /** Mixtral has no system role: the text opens the first user turn from the next answer on. */
    setSystem(text: string | undefined) {
        this.system = emptyToUndefined(text);
    }

    /** Adds a user message and streams the answer. On failure the message is taken back. */
    async send(text: string, sampling: SamplingOptions, callbacks: TextCallbacks = {}): Promise<Turn> {
        if (this.messages.at(-1)?.role === "user") this.messages.pop();
        this.messages.push({role: "user", content: text});
        try {
            return await this.answer(sampling, callbacks);
        } catch (error) {
            this.messages.pop();
            throw error;
        }
    }

    /** Generates the last answer again. */
    async retry(sampling: SamplingOptions, callbacks: TextCallbacks = {}): Promise<Turn> {
        if (this.messages.length === 0) throw new UsageError("There is no answer to retry yet.");
        if (this.messages.at(-1)?.role === "assistant") this.dropLast();
        return await this.answer(sampling, callbacks);
    }

    /** Drops the last exchange (the answer and the message it answered); false when there is none. */
    undo(): boolean {
        if (this.messages.length === 0) return false;
        if (this.messages.at(-1)?.role === "assistant") this.dropLast();
        if (this.messages.at(-1)?.role === "user") this.dropLast();
        return true;
    }

    /** Generates the answer to the conversation as it stands (it ends with a user message). */
    protected abstract answer(sampling: SamplingOptions, callbacks: TextCallbacks): Promise<Turn>;

    /** Removes the last message, and whatever a subclass keeps of it. */
    protected dropLast() {
        this.messages.pop();
    }
}
