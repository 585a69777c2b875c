import {describe, expect, test} from "vitest";
import {ChatSession} from "../../src/engine/chat/chatSession.js";
import {jinjaChatFormat} from "../../src/engine/chat/chatTemplate.js";
import type {OpenedModel} from "../../src/engine/index.js";
import type {SamplingOptions} from "../../src/generator/sampling.js";
import {useTemplateModels} from "../e2e/helpers/templateModels.js";

// The real native engine on the tiny fixtures: random weights, so only structure is asserted.
const greedy = (maxTokens: number): SamplingOptions =>
    ({maxTokens, temperature: 0, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, stop: []});
const conversation = [
    {role: "user", content: "hello world"},
    {role: "assistant", content: "the sun"},
    {role: "user", content: "why"}
] as const;

const models = useTemplateModels();

function renderedText(model: OpenedModel, session: ChatSession): string {
    return model.model.detokenize(session.promptTokens(), true);
}

describe("the prompt format", () => {
    test("a file with a chat template is prompted through that template", () => {
        const session = new ChatSession(models.withTemplate.sequence);
        expect(session.format.source).toBe("file");
        session.replace(undefined, conversation);
        const text = renderedText(models.withTemplate, session);
        // llama.cpp's SentencePiece tokenizer adds a space after <s>, as it does for llama-server.
        expect(text).toMatch(/^<s> +\[INST\] +hello world +\[\/INST\] +the sun<\/s> +\[INST\] +why +\[\/INST\] *$/);
    });

    test("a file without a template gets Mistral Instruct's format, token for token what the template gives", () => {
        const file = new ChatSession(models.withTemplate.sequence);
        const bare = new ChatSession(models.withoutTemplate.sequence);
        expect(bare.format.source).toBe("mistral");
        file.replace("Be brief.", conversation);
        bare.replace("Be brief.", conversation);
        expect(bare.promptTokens()).toEqual(file.promptTokens());
    });

    test("the system text opens the first user turn, as Mixtral has no system role", () => {
        const session = new ChatSession(models.withoutTemplate.sequence, {system: "Be brief."});
        session.replace("Be brief.", conversation);
        const text = renderedText(models.withoutTemplate, session);
        expect(text).toMatch(/^<s> +\[INST\] +Be brief\. *\n\nhello world +\[\/INST\]/);
        expect(text.match(/Be brief/g)).toHaveLength(1);
    });

    test("a template without a system role (the original Mixtral one) gets the system text in the first message", () => {
        const original = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
            "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
            "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}" +
            "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}" +
            "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";
        const session = new ChatSession(models.withTemplate.sequence, {format: jinjaChatFormat(original, models.withTemplate.model.tokenizer)});
        session.replace("Be brief.", conversation);
        expect(renderedText(models.withTemplate, session)).toMatch(/^<s> *\[INST\] +Be brief\. *\n\nhello world +\[\/INST\] *the sun<\/s>/);
    });
});

describe("a conversation", () => {
    test("evaluates only the new turn's tokens, keeping the KV cache between turns", async () => {
        const sequence = models.withTemplate.sequence;
        await sequence.clearHistory();
        const session = new ChatSession(sequence);
        await session.send("hello world", greedy(6));
        const heldAfterFirst = sequence.contextTokens.slice();
        const second = await session.send("why is the sky blue", greedy(6));
        expect(second.stopReason).toBe("maxTokens");
        expect(session.history).toHaveLength(4);
        // The first turn's tokens stayed in place...
        expect(sequence.contextTokens.slice(0, heldAfterFirst.length)).toEqual(heldAfterFirst);
        // ...and only what follows them was evaluated (the last answer token is evaluated with the new turn).
        const evaluatedBeforeAnswer = second.context.used - (second.tokens.generated - 1);
        expect(second.tokens.prompt).toBe(evaluatedBeforeAnswer - heldAfterFirst.length);
    });

    test("/retry evaluates one token and regenerates the same greedy answer", async () => {
        await models.withTemplate.sequence.clearHistory();
        const session = new ChatSession(models.withTemplate.sequence);
        const answer = await session.send("hello world", greedy(6));
        const again = await session.retry(greedy(6));
        expect(again.tokens.prompt).toBe(1);
        expect(again.content).toBe(answer.content);
        expect(session.history).toHaveLength(2);
    });

    test("/undo drops the last exchange and the next turn reuses what came before", async () => {
        await models.withTemplate.sequence.clearHistory();
        const session = new ChatSession(models.withTemplate.sequence);
        await session.send("hello world", greedy(4));
        const second = await session.send("why", greedy(4));
        expect(session.undo()).toBe(true);
        expect(session.history.map((message) => message.role)).toEqual(["user", "assistant"]);
        const redo = await session.send("why", greedy(4));
        expect(redo.content).toBe(second.content);
        expect(redo.tokens.prompt).toBeLessThanOrEqual(second.tokens.prompt);
        expect(session.undo() && session.undo()).toBe(true);
        expect(session.undo()).toBe(false);
    });

    test("a conversation longer than the context leaves out the oldest exchanges instead of failing", async () => {
        await models.withoutTemplate.sequence.clearHistory();
        const session = new ChatSession(models.withoutTemplate.sequence, {system: "Be brief."});
        let dropped = 0;
        let turns = 0;
        while (dropped === 0 && turns < 20) {
            const result = await session.send(`question ${turns} ${"about the blue sky and the sun ".repeat(3)}`, greedy(8));
            turns++;
            dropped += result.droppedExchanges;
            expect(result.context.used).toBeLessThanOrEqual(session.contextSize);
        }
        expect(dropped).toBeGreaterThan(0);
        // The saved conversation keeps every exchange; only the prompt leaves the oldest out.
        expect(session.history).toHaveLength(turns * 2);
        expect(models.withoutTemplate.model.detokenize(session.promptTokens(), true)).toMatch(/^<s> +\[INST\] +Be brief\./);
    });

    test("a message bigger than the whole context is refused with a usage error, and the conversation is kept", async () => {
        await models.withoutTemplate.sequence.clearHistory();
        const session = new ChatSession(models.withoutTemplate.sequence);
        await session.send("hello", greedy(2));
        await expect(session.send("word ".repeat(300), greedy(2))).rejects.toThrow(/more than the 256-token context holds/);
        expect(session.history).toHaveLength(2);
    });
});
