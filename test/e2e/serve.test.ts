import OpenAI from "openai";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {runCli, tinyModel} from "./helpers/runCli.js";
import {startServe, stopAllServers, type ServeProcess} from "./helpers/serveProcess.js";

// The real `openai` client against `mixtral serve` on the tiny test model (random weights: the
// assertions are about structure, equality and determinism, never wording).
let server: ServeProcess;
let client: OpenAI;
const greedy = {temperature: 0} as const;

beforeAll(async () => {
    server = await startServe(["--parallel", "4"]);
    client = new OpenAI({baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0});
});
afterAll(stopAllServers);

async function streamText(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
    let text = "";
    let finishReason: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
        usage = chunk.usage ?? usage;
    }
    return {text, finishReason, usage};
}

describe("mixtral serve through the openai client", () => {
    test("lists its model and answers a chat completion with usage and finish_reason length at max_tokens", async () => {
        const models = await client.models.list();
        expect(models.data.map((model) => model.id)).toEqual(["tiny-q8_0"]);
        const answer = await client.chat.completions.create({model: "tiny-q8_0", messages: [{role: "user", content: "Hello there"}], max_tokens: 10, ...greedy});
        expect(answer.object).toBe("chat.completion");
        expect(answer.choices).toHaveLength(1);
        expect(answer.choices[0]!.message.role).toBe("assistant");
        expect(answer.choices[0]!.message.content!.length).toBeGreaterThan(0);
        expect(answer.choices[0]!.finish_reason).toBe("length");
        expect(answer.usage!.completion_tokens).toBe(10);
        expect(answer.usage!.total_tokens).toBe(answer.usage!.prompt_tokens + 10);
    });

    test("any model name is answered by the loaded model and echoed in the answer, as llama-server does; none names ours", async () => {
        const messages = [{role: "user" as const, content: "Hello there"}];
        const ours = await client.chat.completions.create({model: "tiny-q8_0", messages, max_tokens: 6, ...greedy});
        const other = await client.chat.completions.create({model: "gpt-4o", messages, max_tokens: 6, ...greedy});
        expect(other.model).toBe("gpt-4o");
        expect(other.choices[0]!.message.content).toBe(ours.choices[0]!.message.content);
        const completion = await client.completions.create({model: "org/Some-Model:Q4", prompt: "Hello", max_tokens: 3, ...greedy});
        expect(completion.model).toBe("org/Some-Model:Q4");
        const chunks: string[] = [];
        for await (const chunk of await client.chat.completions.create({model: "llama3", messages, max_tokens: 3, stream: true, stream_options: {include_usage: true}}))
            chunks.push(chunk.model);
        expect(new Set(chunks)).toEqual(new Set(["llama3"]));

        // Without a model (or an empty one) the answer names the one /v1/models lists.
        for (const body of [{messages, max_tokens: 2}, {messages, max_tokens: 2, model: ""}]) {
            const response = await fetch(`${server.baseUrl}/chat/completions`, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
            expect(response.status).toBe(200);
            expect((await response.json() as {model: string}).model).toBe("tiny-q8_0");
        }
    });

    test("models.retrieve answers its model by id or file name, and model_not_found for any other id", async () => {
        expect(await client.models.retrieve("tiny-q8_0")).toMatchObject({id: "tiny-q8_0", object: "model", owned_by: "mixtral"});
        const [listed] = (await client.models.list()).data;
        expect(await client.models.retrieve("tiny-q8_0.gguf")).toEqual(listed);
        const missing = await client.models.retrieve("org/gpt-4o").catch((error: unknown) => error);
        expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
        expect(missing).toMatchObject({status: 404, code: "model_not_found", param: "model"});
        // Only GET: the path is known, the method is not.
        const deleted = await fetch(`${server.baseUrl}/models/tiny-q8_0`, {method: "DELETE"});
        expect(deleted.status).toBe(405);
        expect(deleted.headers.get("allow")).toBe("GET");
    });

    test("a raw completion equals `mixtral complete --temperature 0`, with the same token counts", async () => {
        const prompt = "The cat sat on the";
        const cli = await runCli(["complete", "--model", tinyModel(), "--temperature", "0", "-n", "16", "--json", prompt]);
        expect(cli.code, cli.stderr).toBe(0);
        const expected = JSON.parse(cli.stdout) as {text: string, tokens: {prompt: number, generated: number}};
        const answer = await client.completions.create({model: "tiny-q8_0", prompt, max_tokens: 16, ...greedy});
        expect(answer.choices[0]!.text).toBe(expected.text);
        expect(answer.usage).toMatchObject({prompt_tokens: expected.tokens.prompt, completion_tokens: expected.tokens.generated});
    });

    test("a chat answer equals `mixtral chat --temperature 0` on the same message, with the same prompt tokens", async () => {
        const cli = await runCli(["chat", "--model", tinyModel(), "--temperature", "0", "-n", "12", "--json"], {input: "Why is the sky blue?"});
        expect(cli.code, cli.stderr).toBe(0);
        const turn = JSON.parse(cli.stdout) as {content: string, tokens: {prompt: number, generated: number}};
        const answer = await client.chat.completions.create({messages: [{role: "user", content: "Why is the sky blue?"}], max_tokens: 12, ...greedy});
        expect(answer.choices[0]!.message.content).toBe(turn.content);
        expect(answer.usage).toMatchObject({prompt_tokens: turn.tokens.prompt, completion_tokens: turn.tokens.generated});
    });

    test("streams chunks that add up to the non-streamed answer, then finish_reason and usage", async () => {
        const request = {messages: [{role: "user" as const, content: "Tell me a story"}], max_tokens: 20, ...greedy};
        const whole = await client.chat.completions.create(request);
        const streamed = await streamText(await client.chat.completions.create({...request, stream: true, stream_options: {include_usage: true}}));
        expect(streamed.text).toBe(whole.choices[0]!.message.content);
        expect(streamed.finishReason).toBe("length");
        expect(streamed.usage).toMatchObject({prompt_tokens: whole.usage!.prompt_tokens, completion_tokens: 20});

        // Without include_usage no usage chunk comes.
        const plain = await streamText(await client.chat.completions.create({...request, stream: true}));
        expect(plain.text).toBe(streamed.text);
        expect(plain.usage).toBeUndefined();
    });

    test("streams raw completions too, ending with data: [DONE]", async () => {
        const response = await fetch(`${server.baseUrl}/completions`, {
            method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({prompt: "Once upon a time", max_tokens: 6, temperature: 0, stream: true})
        });
        expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
        const body = await response.text();
        const events = body.split("\n\n").filter((event) => event !== "");
        expect(events.at(-1)).toBe("data: [DONE]");
        const chunks = events.slice(0, -1).map((event) => JSON.parse(event.replace(/^data: /, "")) as {object: string, choices: {text: string, finish_reason: string | null}[]});
        expect(chunks.every((chunk) => chunk.object === "text_completion")).toBe(true);
        expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("length");
        const whole = await client.completions.create({prompt: "Once upon a time", max_tokens: 6, ...greedy});
        expect(chunks.map((chunk) => chunk.choices[0]!.text).join("")).toBe(whole.choices[0]!.text);
    });

    test("stop ends the answer before the stop text, with finish_reason stop, streamed or not", async () => {
        const prompt = "Once upon a time";
        const full = (await client.completions.create({prompt, max_tokens: 24, ...greedy})).choices[0]!.text;
        // A piece from the middle of the greedy text: the answer must end right before its first occurrence.
        const stop = full.slice(8, 11);
        expect(stop.length).toBe(3);
        const expected = full.slice(0, full.indexOf(stop));
        const stopped = await client.completions.create({prompt, max_tokens: 24, stop: [stop, "\u0000never"], ...greedy});
        expect(stopped.choices[0]!.text).toBe(expected);
        expect(stopped.choices[0]!.finish_reason).toBe("stop");

        const chatFull = (await client.chat.completions.create({messages: [{role: "user", content: prompt}], max_tokens: 24, ...greedy})).choices[0]!.message.content!;
        const chatStop = chatFull.slice(6, 9);
        const streamed = await streamText(await client.chat.completions.create({messages: [{role: "user", content: prompt}], max_tokens: 24, stop: chatStop, stream: true, ...greedy}));
        expect(streamed.text).toBe(chatFull.slice(0, chatFull.indexOf(chatStop)));
        expect(streamed.finishReason).toBe("stop");
    });

    test("the same seed samples the same text, another seed another text", async () => {
        const request = {prompt: "In the beginning", max_tokens: 24, temperature: 1.5, top_p: 1, top_k: 0, min_p: 0} as OpenAI.CompletionCreateParamsNonStreaming;
        const first = await client.completions.create({...request, seed: 7});
        const again = await client.completions.create({...request, seed: 7});
        const other = await client.completions.create({...request, seed: 8});
        expect(again.choices[0]!.text).toBe(first.choices[0]!.text);
        expect(other.choices[0]!.text).not.toBe(first.choices[0]!.text);
    });

    test("8 concurrent streams on 4 sequences each equal the same request run alone", async () => {
        const prompts = ["Alpha", "Bravo charlie", "Delta echo foxtrot", "Golf", "Hotel india", "Juliett kilo lima", "Mike", "November oscar"];
        const request = (content: string) => ({messages: [{role: "user" as const, content}], max_tokens: 24, ...greedy});
        const alone: string[] = [];
        for (const prompt of prompts) alone.push((await client.chat.completions.create(request(prompt))).choices[0]!.message.content!);
        const together = await Promise.all(prompts.map(async (prompt) => streamText(await client.chat.completions.create({...request(prompt), stream: true}))));
        expect(together.map((result) => result.text)).toEqual(alone);
        // They really ran together: fewer decode calls than tokens decoded.
        const metrics = await (await fetch(`${server.origin}/metrics`)).text();
        const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(metrics)?.[1]);
        expect(value("mixtral_decoded_tokens_total")).toBeGreaterThan(value("mixtral_decode_calls_total"));
    });

    test("turn 2 of a conversation reuses the KV cache of turn 1", async () => {
        const first = [{role: "user" as const, content: "Remember the word banana and tell me a long story about it"}];
        const turn1 = await client.chat.completions.create({messages: first, max_tokens: 8, ...greedy});
        const turn2 = await client.chat.completions.create({
            messages: [...first, {role: "assistant", content: turn1.choices[0]!.message.content!}, {role: "user", content: "And then?"}],
            max_tokens: 8, ...greedy
        });
        const cached = (turn2.usage as {prompt_tokens_details?: {cached_tokens?: number}}).prompt_tokens_details?.cached_tokens ?? 0;
        expect(cached).toBeGreaterThanOrEqual(turn1.usage!.prompt_tokens);
    });
});
