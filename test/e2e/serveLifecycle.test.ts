import {copyFileSync, mkdtempSync, rmSync, statSync, truncateSync} from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {tinyModel} from "./helpers/runCli.js";
import {readMetric, startServe, stopAllServers, type ServeProcess} from "./helpers/serveProcess.js";

/**
 * One `mixtral serve --parallel 4 --queue-limit 0 --body-timeout 0.5` on a copy of the tiny model:
 * the queue limit counts requests waiting for a sequence, not busy sequences; a body that never
 * comes is given up; then the copy is truncated under it (the last test: the server stops).
 * (test/unit/serverConnections.test.ts has the transport's cases: 413 to a client still sending,
 * timeouts, shutdown.)
 */
const folder = mkdtempSync(path.join(os.tmpdir(), "mixtral-serve-lifecycle-"));
const model = path.join(folder, "served.gguf");
let server: ServeProcess;
beforeAll(async () => {
    copyFileSync(tinyModel(), model);
    server = await startServe(["--parallel", "4", "--queue-limit", "0", "--context-size", "16384", "--body-timeout", "0.5"], {model});
});
afterAll(async () => {
    await stopAllServers();
    rmSync(folder, {recursive: true, force: true});
});

const post = async (route: string, body: Record<string, unknown>, signal?: AbortSignal) => {
    const response = await fetch(`${server.baseUrl}${route}`, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body), signal});
    return response;
};

/** A completion stream that keeps its sequence busy until aborted; resolves once its first text came. */
async function busyStream(): Promise<AbortController> {
    const controller = new AbortController();
    const response = await post("/completions", {prompt: "Once", max_tokens: 16_000, temperature: 0, stream: true}, controller.signal);
    const reader = response.body!.getReader();
    await reader.read();
    void (async () => {
        while (!(await reader.read().catch(() => ({done: true}))).done);
    })();
    return controller;
}

describe("serve --queue-limit counts requests waiting for a free sequence", () => {
    test("with 0 waiting places, free sequences serve; with every sequence taken the refusal names the real numbers", async () => {
        const running = [await busyStream()];
        // One busy, three free: three requests at once are all served.
        const answers = await Promise.all([1, 2, 3].map(() => post("/completions", {prompt: "Hi", max_tokens: 4, temperature: 0})));
        expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
        running.push(await busyStream(), await busyStream(), await busyStream());
        expect(await readMetric(server.origin, "mixtral_busy_sequences")).toBe(4);
        const refused = await post("/completions", {prompt: "Hi", max_tokens: 4});
        expect(refused.status).toBe(503);
        expect((await refused.json() as {error: {message: string}}).error.message)
            .toBe("The server is busy: All 4 sequences are in use and 0 requests are waiting for one (the queue holds 0). Retry shortly.");
        for (const controller of running) controller.abort();
        const deadline = Date.now() + 10_000;
        while (await readMetric(server.origin, "mixtral_busy_sequences") > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    });
});

test("--body-timeout: a request whose body stops coming gets 408 and its connection closed", async () => {
    const {port} = new URL(server.origin);
    const startedAt = Date.now();
    const answer = await new Promise<string>((resolve) => {
        let received = "";
        const socket = net.connect(Number(port), "127.0.0.1", () =>
            socket.write("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"prompt\": \"Hel"));
        socket.on("data", (chunk) => received += chunk.toString());
        socket.on("error", () => {});
        socket.on("close", () => resolve(received));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - startedAt).toBeLessThan(5000);
});

describe("serve checks the model file before each request", () => {
    test("a file truncated under the server: 503 in one sentence, and the server stops with a clear message instead of crashing (SIGBUS)", async () => {
        expect(await readMetric(server.origin, "mixtral_busy_sequences")).toBe(0);
        const size = statSync(model).size;
        truncateSync(model, 1000);
        const answer = await post("/chat/completions", {messages: [{role: "user", content: "hi"}], max_tokens: 4});
        expect(answer.status).toBe(503);
        expect(await answer.json()).toMatchObject({error: {
            code: "model_file_changed",
            message: `The model file changed on disk after the server loaded it (its size went from ${size} to 1000 bytes): the server is stopping.`
        }});
        const {code, signal} = await server.exited;
        expect({code, signal}).toEqual({code: 1, signal: null});
        expect(server.stderr()).toContain(`error: ${model} changed on disk while the server ran (its size went from ${size} to 1000 bytes): the server stopped rather than read a damaged or different model.`);
        expect(server.stderr()).not.toMatch(/\n\s+at /);
    });
});
