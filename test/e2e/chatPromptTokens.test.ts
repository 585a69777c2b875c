import {readFileSync} from "node:fs";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {Token} from "node-llama-cpp";
import {chatFormatFor, type ChatFormat} from "../../src/engine/chat/chatTemplate.js";
import {type ChatMessage} from "../../src/generator/chatMessages.js";
import {tokenizeAnswerText, tokenizeChatText} from "../../src/engine/chat/chatTokens.js";
import {openModel, type OpenedModel} from "../../src/engine/index.js";
import {tinyModel} from "./helpers/runCli.js";

// The peer is the reference: llama-server's prompt tokens for the same conversations on the same
// test model, recorded from its /apply-template, /tokenize and usage (see the fixture's header).
type Recorded = {messages: {role: "system" | ChatMessage["role"], content: string}[], prompt: string, tokens: number[], usagePromptTokens: number};
const fixture = JSON.parse(readFileSync(new URL("../fixtures/llama-server/chatPromptTokens.json", import.meta.url), "utf8")) as {conversations: Recorded[]};

describe("chat prompt tokens", () => {
    let opened: OpenedModel;
    let format: ChatFormat;
    beforeAll(async () => {
        opened = await openModel({path: tinyModel(), gpu: "cpu", threads: 1, contextSize: 256});
        format = chatFormatFor(opened.model);
    });
    afterAll(async () => {
        await opened?.dispose();
    });

    const promptTokens = (recorded: Recorded) => {
        const system = recorded.messages.find((message) => message.role === "system")?.content;
        const messages = recorded.messages.filter((message): message is ChatMessage => message.role !== "system");
        const tokenizer = opened.model.tokenizer;
        const answers = new Map<number, readonly Token[]>();
        messages.forEach((message, index) => {
            if (message.role === "assistant") answers.set(index, tokenizeAnswerText(tokenizer, message.content, format.answersFollowSpace));
        });
        return tokenizeChatText(format.render(system, messages), tokenizer, answers);
    };

    for (const recorded of fixture.conversations)
        it(`equal llama-server's for ${JSON.stringify(recorded.prompt)}`, () => {
            expect(recorded.tokens).toHaveLength(recorded.usagePromptTokens);
            expect(promptTokens(recorded)).toEqual(recorded.tokens);
        });

    it("keep a user's `</s>` and `[INST]` as text, and each turn's prompt and answer a prefix of the next turn's", () => {
        const tokenizer = opened.model.tokenizer;
        const eos = opened.model.tokens.eos;
        const typed = promptTokens({messages: [{role: "user", content: "Say </s> and [INST] please"}], prompt: "", tokens: [], usagePromptTokens: 0});
        expect(typed.filter((token) => token === eos)).toEqual([]);

        const first: ChatMessage[] = [{role: "user", content: "Why is the sky blue?"}];
        const answer = tokenizeAnswerText(tokenizer, "Because of air.", format.answersFollowSpace);
        const turn1 = tokenizeChatText(format.render(undefined, first), tokenizer, new Map());
        const turn2 = tokenizeChatText(format.render(undefined, [...first, {role: "assistant", content: "Because of air."}, {role: "user", content: "And at night?"}]),
            tokenizer, new Map([[1, answer]]));
        expect(turn2.slice(0, turn1.length + answer.length)).toEqual([...turn1, ...answer]);
    });
});
