import {readFileSync, statSync} from "node:fs";
import path from "node:path";
import {Ajv} from "ajv";
import {Ollama} from "ollama";
import OpenAI from "openai";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {repoRoot} from "./helpers/runCli.js";
import {startServe, stopAllServers, type ServeProcess} from "./helpers/serveProcess.js";
import {expectValidCall, toolSpecs} from "./helpers/toolFixtures.js";

// Ollama's own API through the real `ollama` client, on the same port as OpenAI's, on the tiny
// random-weight model: the assertions are about structure, equality and determinism, never wording.
let server: ServeProcess;
let ollama: Ollama;
const greedy = {temperature: 0, num_predict: 8} as const;
const schema = JSON.parse(readFileSync(path.join(repoRoot, "test", "fixtures", "schemas", "order.json"), "utf8")) as Record<string, unknown>;
const packageVersion = (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {version: string}).version;

beforeAll(async () => {
    server = await startServe(["--parallel", "2", "--context-size", "1024"]);
    ollama = new Ollama({host: server.origin});
});
afterAll(stopAllServers);

async function postJson(url: string, body: unknown) {
    const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    return {status: response.status, type: response.headers.get("content-type"), body: await response.text()};
}

describe("mixtral serve through the ollama client", () => {
    test("version, list, show and ps describe the one model", async () => {
        expect((await ollama.version()).version).toBe(packageVersion);

        const {models} = await ollama.list();
        expect(models.map((model) => model.name)).toEqual(["tiny-q8_0"]);
        expect(models[0]!.size).toBe(statSync(path.join(repoRoot, "test", ".models", "tiny-q8_0.gguf")).size);
        expect(models[0]!.digest).toMatch(/^[0-9a-f]{64}$/);
        expect(models[0]!.details).toMatchObject({format: "gguf", family: "llama", quantization_level: "Q8_0"});
        expect(models[0]!.details.parameter_size).toMatch(/^\d+\.\dK$|^\d+\.\dM$/);

        const shown = await ollama.show({model: "tiny-q8_0"});
        expect(shown.details.quantization_level).toBe("Q8_0");
        expect(shown.template).toContain("[INST]");
        expect(shown.capabilities).toEqual(["completion", "tools"]);
        const info = shown.model_info as unknown as Record<string, unknown>;
        expect(info["general.architecture"]).toBe("llama");
        expect(info["llama.context_length"]).toBe(512);
        expect(shown.parameters).toBe("num_ctx 1024");

        const running = await ollama.ps();
        expect(running.models.map((model) => model.name)).toEqual(["tiny-q8_0"]);
        expect(running.models[0]!.size_vram).toBe(0);
        expect((running.models[0] as unknown as {context_length: number}).context_length).toBe(1024);
    });

    test("chat: streamed by default, the same text as stream: false, with Ollama's counts and durations", async () => {
        const messages = [{role: "system", content: "Be brief."}, {role: "user", content: "Hello there"}];
        const whole = await ollama.chat({model: "tiny-q8_0", messages, options: greedy});
        expect(whole.done).toBe(true);
        expect(whole.done_reason).toBe("length");
        expect(whole.message.role).toBe("assistant");
        expect(whole.message.content.length).toBeGreaterThan(0);
        expect(whole.eval_count).toBe(8);
        expect(whole.prompt_eval_count).toBeGreaterThan(5);
        expect(whole.eval_duration).toBeGreaterThan(0);
        expect(whole.prompt_eval_duration).toBeGreaterThan(0);
        expect(whole.total_duration).toBeGreaterThanOrEqual(whole.eval_duration + whole.prompt_eval_duration);

        let text = "";
        const parts = [];
        for await (const part of await ollama.chat({model: "any-name:latest", messages, options: greedy, stream: true})) {
            parts.push(part);
            text += part.message.content;
        }
        expect(text).toBe(whole.message.content);
        expect(parts.length).toBeGreaterThan(1);
        expect(parts.slice(0, -1).every((part) => !part.done)).toBe(true);
        const last = parts.at(-1)!;
        expect(last).toMatchObject({model: "any-name:latest", done: true, done_reason: "length", eval_count: 8, prompt_eval_count: whole.prompt_eval_count});

        // The raw stream is NDJSON, the server's default when `stream` is left out (the client always sends it).
        const raw = await postJson(`${server.origin}/api/chat`, {model: "tiny-q8_0", messages, options: greedy});
        expect(raw.type).toBe("application/x-ndjson");
        const lines = raw.body.trimEnd().split("\n").map((line) => JSON.parse(line) as {message: {content: string}, done: boolean});
        expect(lines.map((line) => line.message.content).join("")).toBe(whole.message.content);
    });

    test("generate: the prompt as a user message with the chat template, or raw as /v1/completions completes it", async () => {
        const asChat = await ollama.chat({model: "tiny-q8_0", messages: [{role: "user", content: "Once upon a time"}], options: greedy});
        const generated = await ollama.generate({model: "tiny-q8_0", prompt: "Once upon a time", options: greedy});
        expect(generated.response).toBe(asChat.message.content);
        expect(generated.done_reason).toBe("length");
        expect(generated.eval_count).toBe(8);

        const raw = await ollama.generate({model: "tiny-q8_0", prompt: "Once upon a time", raw: true, options: greedy});
        const openai = new OpenAI({baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0});
        const completion = await openai.completions.create({model: "tiny-q8_0", prompt: "Once upon a time", max_tokens: 8, temperature: 0});
        expect(raw.response).toBe(completion.choices[0]!.text);

        let streamed = "";
        for await (const part of await ollama.generate({model: "tiny-q8_0", prompt: "Once upon a time", options: greedy, stream: true})) streamed += part.response;
        expect(streamed).toBe(generated.response);

        // Without messages or a prompt, Ollama's clients ask only for the model to be loaded.
        const load = await ollama.generate({model: "tiny-q8_0", prompt: ""});
        expect(load).toMatchObject({done: true, done_reason: "load", response: ""});
    });

    test("options: stop ends the answer before the stop string; every sampling option with a seed repeats a sample", async () => {
        const full = await ollama.chat({model: "tiny-q8_0", messages: [{role: "user", content: "Hello"}], options: {temperature: 0, num_predict: 20}});
        const stop = full.message.content.slice(6, 9);
        expect(stop.trim()).not.toBe("");
        const stopped = await ollama.chat({model: "tiny-q8_0", messages: [{role: "user", content: "Hello"}], options: {temperature: 0, num_predict: 20, stop: [stop]}});
        expect(stopped.done_reason).toBe("stop");
        expect(stopped.message.content).toBe(full.message.content.slice(0, full.message.content.indexOf(stop)));

        const sampled = {temperature: 1, top_k: 50, top_p: 0.9, min_p: 0.01, repeat_penalty: 1.1, presence_penalty: 0.5, frequency_penalty: 0.2, seed: 7, num_predict: 12};
        const first = await ollama.generate({model: "tiny-q8_0", prompt: "Tell me", options: sampled});
        const second = await ollama.generate({model: "tiny-q8_0", prompt: "Tell me", options: sampled});
        expect(second.response).toBe(first.response);
        expect(first.eval_count).toBe(12);
    });

    test("format: a JSON schema constrains the answer at temperature 1 (every seed validates); \"json\" gives an object", async () => {
        const validate = new Ajv({strict: true}).compile(schema);
        for (const seed of [1, 2, 3, 4]) {
            const answer = await ollama.chat({
                model: "tiny-q8_0", messages: [{role: "user", content: "An order as JSON."}], format: schema,
                options: {temperature: 1, seed, num_predict: 500}
            });
            expect(answer.done_reason, answer.message.content).toBe("stop");
            expect(validate(JSON.parse(answer.message.content)), `${answer.message.content} ${JSON.stringify(validate.errors)}`).toBe(true);
        }
        const json = await ollama.generate({model: "tiny-q8_0", prompt: "JSON:", format: "json", options: {temperature: 0.5, seed: 3, num_predict: 500}});
        if (json.done_reason === "stop") expect(typeof JSON.parse(json.response)).toBe("object");
    });

    test("tools: calls as Ollama writes them (arguments an object) valid against their schema, streamed a line a call and not", async () => {
        // Ollama has no tool_choice: the model answers or calls as it likes (seeds 1 and 5 call on the tiny model).
        const tools = toolSpecs.map((spec) => ({type: "function", function: spec}));
        const messages = [{role: "user", content: "What is the weather in Paris?"}];
        let calls = 0;
        for (const seed of [1, 5]) {
            const whole = await ollama.chat({model: "tiny-q8_0", messages, tools, options: {temperature: 1, seed, num_predict: 200}});
            for (const call of whole.message.tool_calls ?? []) expectValidCall(call.function.name, call.function.arguments);
            calls += whole.message.tool_calls?.length ?? 0;
            if (whole.message.tool_calls != null) expect(whole.message.content).toBe("");
            if (whole.done_reason === "stop" && whole.message.tool_calls != null) expect(whole.eval_count).toBeLessThan(200);

            const lines = [];
            for await (const part of await ollama.chat({model: "tiny-q8_0", messages, tools, stream: true, options: {temperature: 1, seed, num_predict: 200}})) lines.push(part);
            const streamedCalls = lines.flatMap((part) => part.message.tool_calls ?? []);
            for (const line of lines.filter((part) => part.message.tool_calls != null)) {
                expect(line.message.tool_calls).toHaveLength(1);
                expect(line.done).toBe(false);
            }
            for (const call of streamedCalls) expectValidCall(call.function.name, call.function.arguments);
            calls += streamedCalls.length;
            expect(lines.at(-1)).toMatchObject({done: true, message: {content: ""}});
            expect(lines.at(-1)!.message.tool_calls).toBeUndefined();
        }
        expect(calls).toBeGreaterThan(0);
    });

    test("tools: a history with the assistant's tool_calls and the tool's result (by tool_name or by order) is in the prompt", async () => {
        const tools = toolSpecs.map((spec) => ({type: "function", function: spec}));
        const history = (result: string, named: boolean) => [
            {role: "user", content: "What is the weather in Paris?"},
            {role: "assistant", content: "", tool_calls: [{function: {name: "get_weather", arguments: {city: "Paris", unit: "celsius"}}}]},
            {role: "tool", content: result, ...(named ? {tool_name: "get_weather"} : {})}
        ];
        const short = await ollama.chat({model: "tiny-q8_0", messages: history("18", true), tools, options: greedy});
        const long = await ollama.chat({model: "tiny-q8_0", messages: history("18 degrees, light rain in the evening, wind from the west", true), tools, options: greedy});
        expect(short.done).toBe(true);
        expect(long.prompt_eval_count).toBeGreaterThan(short.prompt_eval_count + 5);
        // Without tool_name the result answers the call before it: the same prompt.
        const byOrder = await ollama.chat({model: "tiny-q8_0", messages: history("18", false), tools, options: greedy});
        expect(byOrder.prompt_eval_count).toBe(short.prompt_eval_count);
        expect(byOrder.message).toEqual(short.message);
    });

    test("refusals are one sentence in Ollama's error shape, which the client throws with its status", async () => {
        const refused = async (call: Promise<unknown>) => {
            const error = await call.then(() => undefined, (reason: unknown) => reason as {status_code?: number, error?: string, message: string});
            expect(error, "the call was not refused").toBeDefined();
            return error!;
        };
        const tooLong = await refused(ollama.chat({model: "tiny-q8_0", messages: [{role: "user", content: "hi"}], options: {num_ctx: 4096}}));
        expect(tooLong.status_code).toBe(400);
        expect(tooLong.error).toMatch(/num_ctx is 4096, but each request of this server holds at most 1024 tokens.*--context-size.*--parallel/);
        const image = await refused(ollama.chat({model: "tiny-q8_0", messages: [{role: "user", content: "what is this?", images: ["aGVsbG8="]}]}));
        expect(image.error).toBe("images are not supported: Mixtral 8x7B reads text only.");
        const tools = await refused(ollama.chat({model: "tiny-q8_0", messages: [{role: "user", content: "hi"}],
            tools: [{type: "function", function: {name: "f", parameters: {type: "object", properties: {a: {type: "string", not: {}}}}}}]}));
        expect(tools.error).toMatch(/^The parameters of the tool "f": /);
        // One call at a time: a refusal that arrives while an earlier one is awaited would be unhandled.
        for (const call of [() => ollama.pull({model: "llama3"}), () => ollama.delete({model: "tiny-q8_0"}), () => ollama.create({model: "mine", from: "tiny-q8_0"})]) {
            const error = await refused(call());
            expect(error.status_code).toBe(400);
            expect(error.error).toMatch(/^(pull|delete|create) is not supported: this server serves the one model it was started with/);
        }

        // Unknown paths under /api/ and bad bodies are answered in Ollama's shape too, never OpenAI's.
        for (const [url, body] of [[`${server.origin}/api/embed`, {model: "x", input: "hi"}], [`${server.origin}/api/chat`, [1]]] as const) {
            const response = await postJson(url, body);
            expect(response.status).toBeGreaterThanOrEqual(400);
            const parsed = JSON.parse(response.body) as {error: unknown};
            expect(Object.keys(parsed)).toEqual(["error"]);
            expect(typeof parsed.error).toBe("string");
        }
    });
});
