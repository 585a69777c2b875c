import path from "node:path";
import {describe, expect, it} from "vitest";
import {chunk, fakeServer, streamHeaders} from "../unit/helpers/fakeOpenAiServer.js";
import {repoRoot, runCli} from "./helpers/runCli.js";

/**
 * `complete` and `bench` as users run them, against small servers written here that answer one
 * way on purpose (a quick stream, silence): what reaches stdout and stderr, and the exit code.
 * The real `mixtral serve` is covered in remoteClient.test.ts; the protocol limits in
 * test/unit/remoteClientLimits.test.ts.
 */
// Any import of node-llama-cpp makes the process fail: a client never loads the engine.
const env = {
    NODE_OPTIONS: `--import=${path.join(repoRoot, "test", "e2e", "helpers", "forbidNodeLlamaCpp.mjs")}`,
    MIXTRAL_RUNTIME_DIR: path.join(repoRoot, "test", ".models", "no-servers-here"),
    MIXTRAL_CONNECT_TIMEOUT: undefined,
    MIXTRAL_IDLE_TIMEOUT: undefined
};

/** A server that lists model "m" and streams `pieces` as one answer; `silent` sends headers and one piece, then nothing. */
async function answeringServer(pieces: string[], options: {silent?: boolean} = {}): Promise<string> {
    const endpoint = await fakeServer((request, response) => {
        if (request.method === "GET") {
            response.writeHead(200, {"content-type": "application/json"});
            response.end(JSON.stringify({object: "list", data: [{id: "m", object: "model"}]}));
            return;
        }
        response.writeHead(200, streamHeaders);
        if (options.silent === true) {
            response.write(chunk(pieces[0] ?? ""));
            return;
        }
        response.end(pieces.map((piece) => chunk(piece)).join("") + chunk("", "stop") + "data: [DONE]\n\n");
    });
    return endpoint.href;
}

describe("complete's text on stdout", () => {
    it("ends with a newline when piped (as `ollama run` does), and --raw keeps the bytes exact", async () => {
        const endpoint = await answeringServer(["Hel", "lo"]);
        const piped = await runCli(["complete", "--endpoint", endpoint, "hi"], {env});
        expect(piped.code, piped.stderr).toBe(0);
        expect(piped.stdout).toBe("Hello\n");
        const raw = await runCli(["complete", "--endpoint", endpoint, "--raw", "hi"], {env});
        expect(raw.stdout).toBe("Hello");
    });

    it("adds no second newline to an answer that ends in one", async () => {
        const endpoint = await answeringServer(["line one\n"]);
        const result = await runCli(["complete", "--endpoint", endpoint, "hi"], {env});
        expect(result.stdout).toBe("line one\n");
    });

    it("keeps --json-schema answers one a line when appended to a file", async () => {
        const endpoint = await answeringServer(["\"a\""]);
        const outputs: string[] = [];
        for (let i = 0; i < 2; i++)
            outputs.push((await runCli(["complete", "--endpoint", endpoint, "--json-schema", "{\"type\":\"string\"}", "hi"], {env})).stdout);
        expect(outputs.join("")).toBe("\"a\"\n\"a\"\n");
    });
});

describe("client timeouts from flags and the environment", () => {
    it("--idle-timeout ends a silent answer in one sentence with a non-zero exit", async () => {
        const endpoint = await answeringServer(["Hel"], {silent: true});
        const result = await runCli(["complete", "--endpoint", endpoint, "--idle-timeout", "0.3", "hi"], {env, timeoutMs: 20_000});
        expect(result.code).not.toBe(0);
        expect(result.stdout).toBe("Hel");
        expect(result.stderr.split("\n")[0]).toBe(`error: ${endpoint} sent nothing for 0.3 s in the middle of its answer.`);
    });

    it("MIXTRAL_CONNECT_TIMEOUT bounds the wait for an answer that never starts; a bad value is a usage error", async () => {
        const endpoint = (await fakeServer((request, response) => {
            if (request.method === "GET") {
                response.writeHead(200, {"content-type": "application/json"});
                response.end(JSON.stringify({data: [{id: "m"}]}));
            }
        })).href;
        const result = await runCli(["complete", "--endpoint", endpoint, "hi"], {env: {...env, MIXTRAL_CONNECT_TIMEOUT: "0.3"}, timeoutMs: 20_000});
        expect(result.code).not.toBe(0);
        expect(result.stderr.split("\n")[0]).toBe(`error: ${endpoint} did not start answering within 0.3 s.`);
        const bad = await runCli(["complete", "--endpoint", endpoint, "hi"], {env: {...env, MIXTRAL_CONNECT_TIMEOUT: "soon"}});
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/MIXTRAL_CONNECT_TIMEOUT="soon" is not a number of seconds/);
    });

    it("bench --endpoint takes the same timeouts", async () => {
        const endpoint = await answeringServer(["Hel"], {silent: true});
        const result = await runCli(["bench", "--endpoint", endpoint, "-p", "4", "-n", "4", "--concurrency", "1", "--requests", "1",
            "--no-warmup", "--idle-timeout", "0.3", "-o", "jsonl", "--verbose"], {env, timeoutMs: 20_000});
        expect(result.stderr).toMatch(/sent nothing for 0\.3 s in the middle of its answer/);
    });
});

describe("JSON output is one object a line", () => {
    it("complete --json prints one line, as chat --json does", async () => {
        const endpoint = await answeringServer(["Hi"]);
        const result = await runCli(["complete", "--endpoint", endpoint, "--json", "hi"], {env});
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout.split("\n")).toHaveLength(2);
        expect(JSON.parse(result.stdout)).toMatchObject({text: "Hi", stopReason: "eos"});
    });

    it("chat --lines --json objects carry the stdin line number and the prompt, as complete --lines --json's do", async () => {
        const endpoint = await answeringServer(["Hi"]);
        const result = await runCli(["chat", "--endpoint", endpoint, "--lines", "--json"], {env, input: "first\n\nthird\n"});
        expect(result.code, result.stderr).toBe(0);
        const objects = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(objects.map(({line, prompt, content}) => ({line, prompt, content}))).toEqual([
            {line: 1, prompt: "first", content: "Hi"},
            {line: 3, prompt: "third", content: "Hi"}
        ]);
    });
});
