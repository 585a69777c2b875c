import OpenAI from "openai";
import {afterAll, describe, expect, test} from "vitest";
import {runCli, tinyModel} from "./helpers/runCli.js";
import {startServe, stopAllServers} from "./helpers/serveProcess.js";

afterAll(stopAllServers);

// A model trained on 32k tokens: `chat` gives a conversation 4,096 of them (the engine's default
// without a plan), and so does each of serve's sequences.
const model = tinyModel("tiny-32k-q8_0.gguf");

describe("serve sizes each request's context as chat sizes a conversation", () => {
    test("without --context-size or --parallel: chat's context a sequence, 4 sequences; a 3,000-token prompt is answered", async () => {
        const server = await startServe([], {model});
        expect(server.stderr()).toMatch(/\(4 sequences × 4096 tokens,/);
        const chat = await runCli(["chat", "-m", model, "--no-server", "--temperature", "0", "--max-tokens", "2", "--json"], {input: "hello"});
        expect(chat.code, chat.stderr).toBe(0);
        expect((JSON.parse(chat.stdout) as {tokens: {contextSize: number}}).tokens.contextSize).toBe(4096);

        const client = new OpenAI({baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0});
        const ask = (words: number) => client.chat.completions.create({
            model: "tiny", messages: [{role: "user", content: "lorem ipsum dolor ".repeat(words)}], max_tokens: 1, temperature: 0
        });
        // How many tokens a repetition costs, to aim the prompts.
        const probe = await ask(100);
        const perRepetition = probe.usage!.prompt_tokens / 100;
        const long = await ask(Math.round(3000 / perRepetition));
        expect(long.usage!.prompt_tokens).toBeGreaterThan(2900);
        expect(long.usage!.completion_tokens).toBe(1);

        const refused = await ask(Math.round(5000 / perRepetition)).then(() => undefined, (error: unknown) => error);
        expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
        const message = (refused as InstanceType<typeof OpenAI.BadRequestError>).message;
        expect(message).toMatch(/only 4094 fit in the 4096-token context of a sequence/);
        expect(message).toMatch(/--context-size/);
        expect(message).toMatch(/--parallel/);
    });

    test("--context-size is each request's (as Ollama's num_ctx), --parallel how many", async () => {
        const server = await startServe(["--context-size", "6000", "--parallel", "2", "--verbose"], {model});
        const [, sequences, tokens] = /\((\d+) sequences × (\d+) tokens,/.exec(server.stderr()) ?? [];
        // The server's cache by use: a q8_0 K cache without flash attention on the CPU (heads of 32 values fit its blocks).
        expect(server.stderr()).toContain("KV cache: q8_0/f16, flash attention off (serve on the CPU: generation at 16384 tokens of context is 1.40× faster");
        expect(Number(sequences)).toBe(2);
        // llama.cpp rounds a context up to its padding.
        expect(Number(tokens)).toBeGreaterThanOrEqual(6000);
        expect(Number(tokens)).toBeLessThan(6400);
    });
});
