import {request} from "node:http";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {runCli, tinyModel} from "./helpers/runCli.js";
import {startServe, stopAllServers, type ServeProcess} from "./helpers/serveProcess.js";

/**
 * What a careless or hostile client sends (issue 22): a request too big to fit refused without
 * stalling the server, schemas that cannot become a grammar, bodies that are not JSON, and the small
 * habits of other servers' clients (HEAD /health, a byte order mark, a prefill, only system messages).
 * One server (the tiny model, 512 tokens a sequence) for all of them.
 */
let server: ServeProcess;
beforeAll(async () => {
    server = await startServe(["--parallel", "2"]);
});
afterAll(stopAllServers);

type Answer = {status: number, body: string, ms: number};

/** A POST with a prepared body and any headers (fetch would add its own Content-Type). */
function post(path: string, body: string | Buffer, headers: Record<string, string> = {"Content-Type": "application/json"}): Promise<Answer> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
        const data = typeof body === "string" ? Buffer.from(body) : body;
        const req = request(`${server.origin}${path}`, {method: "POST", headers: {...headers, "Content-Length": String(data.length)}}, (response) => {
            let text = "";
            response.setEncoding("utf8").on("data", (chunk: string) => { text += chunk; });
            response.on("end", () => resolve({status: response.statusCode ?? 0, body: text, ms: performance.now() - started}));
        });
        req.on("error", reject);
        req.end(data);
    });
}

const chat = (messages: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({messages, max_tokens: 2, temperature: 0, ...extra});
const errorOf = (answer: Answer) => (JSON.parse(answer.body) as {error: {message: string, param: string | null, code: string | null}}).error;

describe("mixtral serve against hostile and unusual requests", () => {
    test("a 3.9 MB prompt and a 60,000-message chat are refused at once, and /health stays quick meanwhile", async () => {
        // Built before timing: building them holds this process's own event loop.
        const prompt = Buffer.from(JSON.stringify({prompt: "word ".repeat(780_000), max_tokens: 1}));
        const messages = Buffer.from(chat([...Array.from({length: 60_000}, (_, index) => ({role: index % 2 === 0 ? "user" : "assistant", content: "hi"})), {role: "user", content: "x"}]));
        let polling = true;
        let slowestHealth = 0;
        const poller = (async () => {
            while (polling) {
                const started = performance.now();
                expect((await fetch(`${server.origin}/health`)).status).toBe(200);
                slowestHealth = Math.max(slowestHealth, performance.now() - started);
                await new Promise((resolve) => setTimeout(resolve, 10));
            }
        })();
        const [long, many] = [await post("/v1/completions", prompt), await post("/v1/chat/completions", messages)];
        polling = false;
        await poller;
        expect(long.status).toBe(400);
        expect(errorOf(long)).toMatchObject({code: "context_length_exceeded", param: "prompt", message: expect.stringMatching(/^The prompt is at least \d+ tokens, but only 510 fit/)});
        expect(many.status).toBe(400);
        expect(errorOf(many).message).toMatch(/^The prompt is at least 60001 tokens/);
        // Before: tokenizing held the event loop 1.4–2.9 s (6 s for the chat) and then refused anyway.
        // What is left is reading the JSON (~20 ms a 4 MB body on a quiet core); the bound is generous
        // because the machine running the tests is shared (at a load of 18 on 2 cores it was ~400 ms).
        expect(slowestHealth).toBeLessThan(1000);
    });

    test("a prompt under the byte bound but over the context is counted in slices, and refused", async () => {
        // 1,700 letters apart: fewer bytes (3,400) than 510 of the longest tokens hold (7 bytes each), more tokens than fit.
        const answer = await post("/v1/completions", JSON.stringify({prompt: "a ".repeat(1700), max_tokens: 1}));
        expect(answer.status).toBe(400);
        expect(errorOf(answer).message).toMatch(/^The prompt is more than \d+ tokens, but only 510 fit/);
    });

    test("schemas nested too deep or with a $ref cycle that never ends: 400 naming where", async () => {
        let deep: unknown = {type: "string"};
        for (let level = 0; level < 1200; level++) deep = {type: "array", items: deep};
        const format = (schema: unknown) => ({response_format: {type: "json_schema", json_schema: {name: "s", schema}}});
        const nested = await post("/v1/chat/completions", chat([{role: "user", content: "x"}], format(deep)));
        expect(nested.status).toBe(400);
        expect(errorOf(nested)).toMatchObject({param: "response_format", message: expect.stringMatching(/^response_format\.json_schema\.schema: the schema is nested more than 128 levels deep \(at \/items\/items/)});
        const cycle = await post("/v1/chat/completions", chat([{role: "user", content: "x"}],
            format({$ref: "#/$defs/a", $defs: {a: {type: "object", properties: {a: {$ref: "#/$defs/a"}}, required: ["a"]}}})));
        expect(cycle.status).toBe(400);
        expect(errorOf(cycle)).toMatchObject({param: "response_format", message: expect.stringMatching(/"\$ref" cycle never ends.*\(at \/\$defs\/a\)\.$/)});
        const selfOnly = await post("/v1/chat/completions", chat([{role: "user", content: "x"}], format({$ref: "#/$defs/a", $defs: {a: {$ref: "#/$defs/a"}}})));
        expect(selfOnly.status).toBe(400);
        expect(errorOf(selfOnly).code).not.toBe("context_length_exceeded");
        expect(errorOf(selfOnly).message).toMatch(/cycle never ends/);
    });

    test("JSON routes take JSON: other content types get 415 before anything runs; curl -d's form type only from outside a browser", async () => {
        const body = chat([{role: "user", content: "hi"}]);
        const localPage = server.origin;
        const cases: [string, Record<string, string>, number][] = [
            ["text/plain (a page's simple request)", {"Content-Type": "text/plain"}, 415],
            ["text/plain from an allowed page", {"Content-Type": "text/plain;charset=UTF-8", Origin: localPage}, 415],
            ["a form from a page", {"Content-Type": "application/x-www-form-urlencoded", Origin: localPage}, 415],
            ["multipart", {"Content-Type": "multipart/form-data; boundary=x"}, 415],
            ["curl -d (a form type, no Origin)", {"Content-Type": "application/x-www-form-urlencoded"}, 200],
            ["JSON with a charset", {"Content-Type": "application/json; charset=utf-8"}, 200],
            ["a +json type", {"Content-Type": "application/vnd.api+json"}, 200],
            ["no Content-Type", {}, 200],
            ["JSON from an allowed page", {"Content-Type": "application/json", Origin: localPage}, 200]
        ];
        for (const [label, headers, status] of cases) {
            const answer = await post("/v1/chat/completions", body, headers);
            expect(answer.status, label).toBe(status);
            if (status === 415) expect(errorOf(answer).message, label).toMatch(/^The request body must be JSON: send it with Content-Type: application\/json/);
        }
        const ollama = await post("/api/generate", JSON.stringify({prompt: "hi"}), {"Content-Type": "text/plain"});
        expect(ollama.status).toBe(415);
        expect(JSON.parse(ollama.body)).toEqual({error: expect.stringMatching(/must be JSON/)});
    });

    test("HEAD /health, a byte order mark, repeat_penalty 0", async () => {
        const head = await fetch(`${server.origin}/health`, {method: "HEAD"});
        expect(head.status).toBe(200);
        expect(await head.text()).toBe("");
        expect((await post("/v1/chat/completions", `\uFEFF${chat([{role: "user", content: "hi"}])}`)).status).toBe(200);
        const penalty = await post("/v1/chat/completions", chat([{role: "user", content: "hi"}], {repeat_penalty: 0}));
        expect(penalty.status).toBe(400);
        expect(errorOf(penalty)).toMatchObject({param: "repeat_penalty", message: "repeat_penalty must be greater than 0."});
        const ollama = await post("/api/generate", JSON.stringify({prompt: "hi", stream: false, options: {repeat_penalty: 0}}));
        expect(ollama.status).toBe(400);
    });

    test("only system messages are served; an assistant message last is a prefill the answer continues", async () => {
        const system = await post("/v1/chat/completions", chat([{role: "system", content: "You list rivers."}]));
        expect(system.status).toBe(200);
        const ollamaSystem = await post("/api/chat", JSON.stringify({messages: [{role: "system", content: "You list rivers."}], stream: false, options: {num_predict: 2}}));
        expect(ollamaSystem.status).toBe(200);

        type Completion = {choices: [{message: {content: string}}], usage: {prompt_tokens: number}};
        const question = [{role: "user", content: "Name a river."}];
        const plain = JSON.parse((await post("/v1/chat/completions", chat(question))).body) as Completion;
        const prefilled = await post("/v1/chat/completions", chat([...question, {role: "assistant", content: "The river number"}]));
        expect(prefilled.status).toBe(200);
        const continued = JSON.parse(prefilled.body) as Completion;
        // The prefill's tokens close the prompt (more prompt tokens), and the answer is only what follows it.
        expect(continued.usage.prompt_tokens).toBeGreaterThan(plain.usage.prompt_tokens + 1);
        expect(continued.choices[0].message.content.startsWith("The river number")).toBe(false);
        const anthropic = await post("/v1/messages", JSON.stringify({max_tokens: 2, messages: [...question, {role: "assistant", content: "The river number"}]}));
        expect(anthropic.status).toBe(200);
        expect((JSON.parse(anthropic.body) as {usage: {input_tokens: number}}).usage.input_tokens).toBe(continued.usage.prompt_tokens);
    });
});

describe("the same refusals from the command line", () => {
    test("serve --api-key '' is refused in one sentence; --json-schema with a cycle exits 2 with the server's sentence", async () => {
        const emptyKey = await runCli(["serve", "--model", tinyModel(), "--port", "0", "--api-key", ""]);
        expect(emptyKey.code).toBe(2);
        expect(emptyKey.stderr).toMatch(/--api-key is empty/);
        const cycle = await runCli(["complete", "--model", tinyModel(), "-n", "2", "--json-schema",
            JSON.stringify({$ref: "#/$defs/a", $defs: {a: {type: "object", properties: {a: {$ref: "#/$defs/a"}}, required: ["a"]}}}), "hi"]);
        expect(cycle.code).toBe(2);
        expect(cycle.stderr).toMatch(/--json-schema: the schema's "\$ref" cycle never ends.*\(at \/\$defs\/a\)/);
        expect(cycle.stderr).not.toMatch(/\n\s+at /);
    });
});
