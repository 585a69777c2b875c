import Anthropic from "@anthropic-ai/sdk";
import {Ollama} from "ollama";
import OpenAI from "openai";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {runCli, tinyModel} from "./helpers/runCli.js";
import {startServe, stopAllServers, type ServeProcess} from "./helpers/serveProcess.js";

// One engine, three dialects: a conversation at temperature 0 is the same prompt, the same tokens
// and so the same text whichever API asks for it, and the same as `mixtral chat` gives.
let server: ServeProcess;
let openai: OpenAI;
let ollama: Ollama;
let anthropic: Anthropic;
const maxTokens = 12;

beforeAll(async () => {
    server = await startServe(["--parallel", "2"]);
    openai = new OpenAI({baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0});
    ollama = new Ollama({host: server.origin});
    anthropic = new Anthropic({baseURL: server.origin, apiKey: "unused", maxRetries: 0});
});
afterAll(stopAllServers);

type Turn = {role: "user" | "assistant", content: string};

async function throughEachDialect(system: string, turns: Turn[]) {
    const viaOpenAi = await openai.chat.completions.create({
        model: "tiny-q8_0", messages: [{role: "system", content: system}, ...turns], temperature: 0, max_tokens: maxTokens
    });
    const viaOllama = await ollama.chat({
        model: "tiny-q8_0", messages: [{role: "system", content: system}, ...turns], options: {temperature: 0, num_predict: maxTokens}
    });
    const viaAnthropic = await anthropic.messages.create({model: "tiny-q8_0", system, messages: turns, temperature: 0, max_tokens: maxTokens});
    return {
        openai: viaOpenAi.choices[0]!.message.content,
        ollama: viaOllama.message.content,
        anthropic: viaAnthropic.content.map((block) => (block.type === "text" ? block.text : "")).join("")
    };
}

describe("the same conversation through every dialect", () => {
    test("OpenAI chat, Ollama chat, Anthropic messages and `mixtral chat --json` give the same text at temperature 0", async () => {
        const texts = await throughEachDialect("Be brief.", [{role: "user", content: "Why is the sky blue?"}]);
        const chat = await runCli(["chat", "-m", tinyModel(), "--no-server", "--temperature", "0", "--max-tokens", String(maxTokens), "--system", "Be brief.", "--json"],
            {input: "Why is the sky blue?"});
        expect(chat.code, chat.stderr).toBe(0);
        const local = (JSON.parse(chat.stdout) as {content: string}).content;
        expect(local.length).toBeGreaterThan(0);
        expect(texts).toEqual({openai: local, ollama: local, anthropic: local});
    });

    test("a history with an earlier answer gives the same text through the three dialects", async () => {
        const texts = await throughEachDialect("You are terse.", [
            {role: "user", content: "Name a colour."},
            {role: "assistant", content: "Blue."},
            {role: "user", content: "Another one?"}
        ]);
        expect(texts.openai!.length).toBeGreaterThan(0);
        expect(texts.ollama).toBe(texts.openai);
        expect(texts.anthropic).toBe(texts.openai);
    });
});
