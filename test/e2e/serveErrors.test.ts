import {readdirSync, readFileSync} from "node:fs";
import {createServer} from "node:net";
import path from "node:path";
import OpenAI from "openai";
import {afterAll, afterEach, describe, expect, test} from "vitest";
import {runCli, tinyModel} from "./helpers/runCli.js";
import {readMetric, startServe, stopAllServers} from "./helpers/serveProcess.js";

afterEach(stopAllServers);
afterAll(stopAllServers);

type ErrorBody = {error: {message: string, type: string, param: string | null, code: string | null}};

async function post(url: string, body: string, headers: Record<string, string> = {}) {
    const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", ...headers}, body});
    return {status: response.status, headers: response.headers, body: await response.text()};
}

/** OpenAI's error shape: an `error` object with a message, a type, a param and a code, nothing else. */
function expectErrorShape(text: string): ErrorBody {
    const parsed = JSON.parse(text) as ErrorBody;
    expect(Object.keys(parsed)).toEqual(["error"]);
    expect(Object.keys(parsed.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(typeof parsed.error.message).toBe("string");
    expect(parsed.error.message).not.toMatch(/\n\s+at /);
    return parsed;
}

function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const probe = createServer().listen(0, "127.0.0.1", () => {
            const {port} = probe.address() as {port: number};
            probe.close(() => resolve(port));
        });
    });
}

describe("mixtral serve refuses bad requests in OpenAI's error shape and stays up", () => {
    test("malformed JSON, wrong types, n > 1, empty messages, unknown route, oversized body", async () => {
        const server = await startServe(["--parallel", "1"]);
        const chat = `${server.baseUrl}/chat/completions`;
        const messages = [{role: "user", content: "hi"}];
        const cases: [string, string, number, string | null][] = [
            ["malformed JSON", "{\"messages\": [", 400, null],
            ["a body that is not an object", "[1, 2]", 400, null],
            ["messages not a list", JSON.stringify({messages: "hi"}), 400, "messages"],
            ["empty messages", JSON.stringify({messages: []}), 400, "messages"],
            ["a message without text", JSON.stringify({messages: [{role: "user", content: 5}]}), 400, "messages[0].content"],
            ["an unknown role", JSON.stringify({messages: [{role: "wizard", content: "x"}]}), 400, "messages[0].role"],
            ["temperature as a string", JSON.stringify({messages, temperature: "hot"}), 400, "temperature"],
            ["max_tokens fractional", JSON.stringify({messages, max_tokens: 1.5}), 400, "max_tokens"],
            ["top_p out of range", JSON.stringify({messages, top_p: 3}), 400, "top_p"],
            ["stop as a number", JSON.stringify({messages, stop: 42}), 400, "stop"],
            ["stream not a boolean", JSON.stringify({messages, stream: "yes"}), 400, "stream"],
            ["n > 1", JSON.stringify({messages, n: 2}), 400, "n"],
            ["model not a string", JSON.stringify({messages, model: 4}), 400, "model"]
        ];
        for (const [label, body, status, param] of cases) {
            const response = await post(chat, body);
            expect(response.status, label).toBe(status);
            expect(expectErrorShape(response.body).error.param, label).toBe(param);
        }
        const prompt = await post(`${server.baseUrl}/completions`, JSON.stringify({prompt: 12}));
        expect(prompt.status).toBe(400);
        expect(expectErrorShape(prompt.body).error.param).toBe("prompt");

        const tooLong = await post(`${server.baseUrl}/completions`, JSON.stringify({prompt: "word ".repeat(20_000), max_tokens: 1}));
        expect(tooLong.status).toBe(400);
        expect(expectErrorShape(tooLong.body).error.code).toBe("context_length_exceeded");

        const route = await fetch(`${server.baseUrl}/engines`);
        expect(route.status).toBe(404);
        expectErrorShape(await route.text());
        const method = await fetch(`${server.baseUrl}/chat/completions`);
        expect(method.status).toBe(405);
        expectErrorShape(await method.text());

        const huge = await post(chat, JSON.stringify({messages: [{role: "user", content: "x".repeat(5 * 1024 * 1024)}]}));
        expect(huge.status).toBe(413);
        expectErrorShape(huge.body);

        // Through the openai client: its typed errors carry the status.
        const client = new OpenAI({baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0});
        await expect(client.chat.completions.create({model: "tiny-q8_0", messages: []})).rejects.toBeInstanceOf(OpenAI.BadRequestError);

        // Still up, still answering.
        const answer = await client.chat.completions.create({model: "tiny-q8_0", messages: [{role: "user", content: "hi"}], max_tokens: 3});
        expect(answer.usage!.completion_tokens).toBeGreaterThan(0);
        expect(server.stderr()).not.toMatch(/\n\s+at /);
    });

    test("a full queue answers 503 with Retry-After; a client that disconnects frees its sequence", async () => {
        // One sequence, one waiting place, a long context so that a generation lasts.
        const server = await startServe(["--parallel", "1", "--queue-limit", "1", "--context-size", "60000"]);
        const client = new OpenAI({baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0});
        const long = {prompt: "Once", max_tokens: 50_000, temperature: 0};
        const running = new AbortController();
        const stream = await client.completions.create({...long, stream: true}, {signal: running.signal});
        const iterator = stream[Symbol.asyncIterator]();
        await iterator.next();
        expect(await readMetric(server.origin, "mixtral_busy_sequences")).toBe(1);

        const waiting = new AbortController();
        const queued = client.completions.create(long, {signal: waiting.signal}).catch((error: unknown) => error);
        // The queued request reaches the server before the next one.
        const deadline = Date.now() + 10_000;
        while (await readMetric(server.origin, "mixtral_queue_length") < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        expect(await readMetric(server.origin, "mixtral_queue_length")).toBe(1);

        const refused = await post(`${server.baseUrl}/completions`, JSON.stringify(long));
        expect(refused.status).toBe(503);
        expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
        expect(expectErrorShape(refused.body).error.type).toBe("server_error");

        // Both clients go away: the queue empties and the sequence is freed, generation stops.
        waiting.abort();
        running.abort();
        await queued;
        let busy = 1;
        let queue = 1;
        while ((busy > 0 || queue > 0) && Date.now() < deadline + 10_000) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            busy = await readMetric(server.origin, "mixtral_busy_sequences");
            queue = await readMetric(server.origin, "mixtral_queue_length");
        }
        expect({busy, queue}).toEqual({busy: 0, queue: 0});
        const generated = await readMetric(server.origin, "mixtral_generated_tokens_total");
        expect(generated).toBeLessThan(50_000);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(await readMetric(server.origin, "mixtral_generated_tokens_total")).toBe(generated);

        // The freed sequence serves the next request.
        const next = await client.completions.create({prompt: "Hi", max_tokens: 4, temperature: 0});
        expect(next.usage!.completion_tokens).toBe(4);
    });

    test("--api-key (or MIXTRAL_API_KEY) is required on every route but /health, and never printed", async () => {
        const key = "s3cret-key-for-tests";
        for (const setup of [{args: ["--api-key", key], env: {}}, {args: [], env: {MIXTRAL_API_KEY: key}}]) {
            const server = await startServe(setup.args, {env: setup.env});
            expect((await fetch(`${server.origin}/health`)).status).toBe(200);
            for (const headers of [{}, {Authorization: "Bearer wrong"}, {Authorization: `Bearer ${key}x`}, {Authorization: key}]) {
                const response = await fetch(`${server.baseUrl}/models`, {headers});
                expect(response.status).toBe(401);
                expect(expectErrorShape(await response.text()).error.code).toBe("invalid_api_key");
            }
            expect((await fetch(`${server.origin}/metrics`)).status).toBe(401);
            const denied = new OpenAI({baseURL: server.baseUrl, apiKey: "wrong", maxRetries: 0});
            await expect(denied.chat.completions.create({model: "tiny-q8_0", messages: [{role: "user", content: "x"}]})).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
            const allowed = new OpenAI({baseURL: server.baseUrl, apiKey: key, maxRetries: 0});
            const answer = await allowed.chat.completions.create({model: "tiny-q8_0", messages: [{role: "user", content: "x"}], max_tokens: 2});
            expect(answer.choices[0]!.finish_reason).toBe("length");
            expect(server.stderr()).toContain("API key required");
            expect(server.stderr()).not.toContain(key);
            await server.stop();
        }
    });

    test("/health answers 503 while the model loads, then 200; the server announces itself until it stops", async () => {
        const port = await freePort();
        const startedAt = Date.now();
        const serving = startServe(["--port", String(port)]);
        const seen: number[] = [];
        let body = "";
        while (Date.now() - startedAt < 60_000) {
            const status = await fetch(`http://127.0.0.1:${port}/health`).then(async (response) => {
                if (response.status === 503) body = await response.text();
                else await response.text();
                return response.status;
            }, () => 0);
            if (status !== 0 && seen.at(-1) !== status) seen.push(status);
            if (status === 200) break;
            await new Promise((resolve) => setTimeout(resolve, 5));
        }
        expect(seen).toEqual([503, 200]);
        expect(expectErrorShape(body).error.code).toBe("loading");

        const server = await serving;
        const files = readdirSync(path.join(server.runtimeDir, "servers"));
        expect(files).toEqual([`${server.child.pid}.json`]);
        const announcement = JSON.parse(readFileSync(path.join(server.runtimeDir, "servers", files[0]!), "utf8")) as Record<string, unknown>;
        expect(announcement).toMatchObject({pid: server.child.pid, baseUrl: `http://127.0.0.1:${port}/v1`, modelPath: tinyModel(), modelId: "tiny-q8_0", apiKeyRequired: false});
    });

    test("SIGTERM: queued requests get 503 and cut answers end as errors in each dialect's shape (never as finished), complete --endpoint exits non-zero; the server exits 0", async () => {
        const server = await startServe(["--context-size", "16384", "--parallel", "5", "--queue-limit", "8"]);
        const long = 16_000;
        const send = (route: string, body: Record<string, unknown>) => fetch(`${server.origin}${route}`, {
            method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)
        });
        const user = [{role: "user", content: "go on"}];
        /** The whole response body, once its first bytes have come (`started`) and to its end. */
        const collect = (response: Promise<Response>) => {
            let markStarted: () => void;
            const started = new Promise<void>((resolve) => markStarted = resolve);
            const whole = response.then(async (answer) => {
                const reader = answer.body!.getReader();
                const decoder = new TextDecoder();
                let text = "";
                for (let part = await reader.read(); !part.done; part = await reader.read()) {
                    text += decoder.decode(part.value, {stream: true});
                    markStarted();
                }
                return {status: answer.status, text};
            });
            return {started, whole};
        };
        // Five running answers: a stream of each dialect, a whole OpenAI answer, and complete --endpoint --json.
        const openAiStream = collect(send("/v1/chat/completions", {messages: user, max_tokens: long, temperature: 0, stream: true}));
        const ollamaStream = collect(send("/api/generate", {model: "tiny-q8_0", prompt: "Once", options: {num_predict: long, temperature: 0}}));
        const anthropicStream = collect(send("/v1/messages", {model: "tiny-q8_0", max_tokens: long, messages: user, stream: true}));
        await Promise.all([openAiStream.started, ollamaStream.started, anthropicStream.started]);
        const openAiWhole = collect(send("/v1/completions", {prompt: "Once", max_tokens: long, temperature: 0}));
        const client = runCli(["complete", "--endpoint", server.baseUrl, "--json", "-n", String(long), "Once"], {timeoutMs: 60_000});
        const deadline = Date.now() + 20_000;
        const waitFor = async (metric: string, value: number) => {
            while (await readMetric(server.origin, metric) < value && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        };
        await waitFor("mixtral_busy_sequences", 5);
        // Three waiting for a sequence, one in each dialect.
        const queued = [
            collect(send("/v1/chat/completions", {messages: user, max_tokens: 4})),
            collect(send("/api/chat", {model: "tiny-q8_0", messages: user, stream: false})),
            collect(send("/v1/messages", {model: "tiny-q8_0", max_tokens: 4, messages: user}))
        ];
        await waitFor("mixtral_queue_length", 3);
        expect(await readMetric(server.origin, "mixtral_queue_length")).toBe(3);
        const signalledAt = Date.now();
        server.child.kill("SIGTERM");

        // OpenAI's stream: an error event, no finish_reason "length" chunk, no [DONE].
        const openAi = await openAiStream.whole;
        const events = openAi.text.split("\n\n").filter((event) => event !== "");
        expect(events).not.toContain("data: [DONE]");
        expect(openAi.text).not.toContain("\"finish_reason\":\"length\"");
        const lastEvent = JSON.parse(events.at(-1)!.replace(/^data: /, "")) as ErrorBody;
        expect(lastEvent.error).toMatchObject({code: "shutting_down", type: "server_error"});
        expect(lastEvent.error.message).toMatch(/stopped before the answer was complete/);
        // Ollama's: an {"error"} line, no done line.
        const ollamaLines = (await ollamaStream.whole).text.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(ollamaLines.at(-1)).toEqual({error: expect.stringMatching(/stopped before the answer was complete/)});
        expect(ollamaLines.some((line) => line.done === true)).toBe(false);
        // Anthropic's: an error event, no message_stop.
        const anthropic = (await anthropicStream.whole).text;
        expect(anthropic.trimEnd().split("\n\n").at(-1)).toMatch(/^event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"The server stopped before the answer was complete/);
        expect(anthropic).not.toContain("message_stop");
        // The whole answer cut: an error status, not 200 with part of a text.
        const whole = await openAiWhole.whole;
        expect(whole.status).toBe(503);
        expect(expectErrorShape(whole.text).error).toMatchObject({code: "shutting_down", message: expect.stringMatching(/stopped before the answer was complete/)});
        // Queued: 503, each in its dialect's shape.
        const [openAiQueued, ollamaQueued, anthropicQueued] = await Promise.all(queued.map((request) => request.whole));
        expect(openAiQueued!.status).toBe(503);
        expect(expectErrorShape(openAiQueued!.text).error).toMatchObject({code: "shutting_down", message: "The server is shutting down."});
        expect(ollamaQueued).toEqual({status: 503, text: JSON.stringify({error: "The server is shutting down."})});
        expect(anthropicQueued!.status).toBe(503);
        expect(JSON.parse(anthropicQueued!.text)).toEqual({type: "error", error: {type: "overloaded_error", message: "The server is shutting down."}});
        // Our client: no answer passed off as complete.
        const cut = await client;
        expect(cut.code).not.toBe(0);
        expect(cut.stdout).toBe("");
        expect(cut.stderr.split("\n")[0]).toMatch(/^error: http:\/\/127\.0\.0\.1:\d+\/v1 stopped with an error: The server stopped before the answer was complete: it is shutting down\.$/);

        const {code} = await server.exited;
        expect(code).toBe(0);
        expect(Date.now() - signalledAt).toBeLessThan(5000);
        expect(readdirSync(path.join(server.runtimeDir, "servers"))).toEqual([]);
        expect(server.stderr()).not.toMatch(/\n\s+at /);
    });
});
