import {rm, writeFile} from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import type {AddressInfo} from "node:net";
import path from "node:path";
import {afterAll, afterEach, beforeAll, describe, expect, test} from "vitest";
import {runInPty, stopEachAnswer} from "./helpers/pty.js";
import {repoRoot, runCli, tinyModel} from "./helpers/runCli.js";
import {startServe, type ServeProcess} from "./helpers/serveProcess.js";

/**
 * complete, chat and bench as clients of the REAL `mixtral serve` (spawned once, tiny model, killed
 * in afterAll): the same greedy text as standalone, the same --json fields and exit codes.
 */
const greedy = ["--temperature", "0", "--repeat-penalty", "1"];
// Any import of node-llama-cpp makes the process fail (see the helper).
const forbidEngine = {NODE_OPTIONS: `--import=${path.join(repoRoot, "test", "e2e", "helpers", "forbidNodeLlamaCpp.mjs")}`};

let serve: ServeProcess;
// Clients given the server's runtime dir find it without --endpoint; the others are kept away from it.
let nearServer: Record<string, string>;
const awayFromServer = {MIXTRAL_RUNTIME_DIR: path.join(repoRoot, "test", ".models", "no-servers-here")};

beforeAll(async () => {
    serve = await startServe(["--parallel", "2", "--context-size", "4096"]);
    nearServer = {MIXTRAL_RUNTIME_DIR: serve.runtimeDir};
});

afterEach(() => {
    // Every later test would fail with "connection refused": say once why the server is gone.
    const {exitCode, signalCode} = serve.child;
    if (exitCode != null || signalCode != null) throw new Error(`mixtral serve ended (${exitCode ?? signalCode}); its stderr:\n${serve.stderr()}`);
});

afterAll(async () => {
    await serve?.stop();
});

type CompleteJson = {
    text: string, model: string, backend: string, threads: number | null, endpoint?: string, stopReason: string,
    tokens: {prompt: number, generated: number}, timings: Record<string, number>
};

async function json<T>(args: string[], env: Record<string, string>, input?: string): Promise<T> {
    const result = await runCli(args, {env, input});
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as T;
}

describe("complete and chat through --endpoint", () => {
    test("complete gives the standalone greedy text, token counts and --json fields", async () => {
        const args = ["complete", "--model", tinyModel(), ...greedy, "-n", "24", "--json", "The cat sat on the"];
        const standalone = await json<CompleteJson>([...args, "--no-server"], awayFromServer);
        const remote = await json<CompleteJson>([...args, "--endpoint", serve.baseUrl], awayFromServer);
        expect(remote.text).toBe(standalone.text);
        expect(remote.tokens).toEqual(standalone.tokens);
        expect(remote.stopReason).toBe(standalone.stopReason);
        // -m file.gguf names the server's model by its file name, as the server lists it.
        expect(remote).toMatchObject({model: "tiny-q8_0", backend: "server", threads: null, endpoint: serve.baseUrl});
        expect(Object.keys(remote).sort()).toEqual([...Object.keys(standalone), "endpoint"].sort());
        expect(remote.timings.loadMs).toBe(0);
        expect(remote.timings.promptMs).toBeGreaterThan(0);
    });

    test("without --model the server's first model is used, and a streamed --raw answer equals the --json text", async () => {
        const args = ["complete", ...greedy, "-n", "16", "--endpoint", serve.baseUrl, "Once upon a time"];
        const streamed = await runCli([...args, "--raw"], {env: awayFromServer});
        expect(streamed.code, streamed.stderr).toBe(0);
        expect(streamed.stderr).toBe("");
        const whole = await json<CompleteJson>([...args, "--json"], awayFromServer);
        expect(streamed.stdout).toBe(whole.text);
        expect(whole.model).toBe("tiny-q8_0");
    });

    test("--stop and --max-tokens end the answer as standalone does", async () => {
        const base = ["complete", "--model", tinyModel(), ...greedy, "--json", "Hello"];
        const long = await json<CompleteJson>([...base, "-n", "40", "--no-server"], awayFromServer);
        const stop = long.text.slice(6, 8);
        const standalone = await json<CompleteJson>([...base, "-n", "40", "--stop", stop, "--no-server"], awayFromServer);
        const remote = await json<CompleteJson>([...base, "-n", "40", "--stop", stop, "--endpoint", serve.baseUrl], awayFromServer);
        expect(standalone.stopReason).toBe("stop");
        expect(remote).toMatchObject({text: standalone.text, stopReason: "stop"});
        const limited = await json<CompleteJson>([...base, "-n", "5", "--endpoint", serve.baseUrl], awayFromServer);
        expect(limited).toMatchObject({stopReason: "maxTokens", tokens: {generated: 5}});
    });

    test("piped chat (one message, and --lines --json) gives the standalone greedy answers; MIXTRAL_ENDPOINT works too", async () => {
        const args = ["chat", "--model", tinyModel(), ...greedy, "-n", "12", "--system", "Be brief."];
        const standalone = await runCli([...args, "--no-server"], {env: awayFromServer, input: "Why is the sky blue?\n"});
        const remote = await runCli(args, {env: {...awayFromServer, MIXTRAL_ENDPOINT: serve.baseUrl}, input: "Why is the sky blue?\n"});
        expect(standalone.code, standalone.stderr).toBe(0);
        expect(remote.code, remote.stderr).toBe(0);
        expect(remote.stdout).toBe(standalone.stdout);

        const turns = "Hi!\nWhat did I just say?\n";
        const localTurns = await runCli([...args, "--lines", "--json", "--no-server"], {env: awayFromServer, input: turns});
        const remoteTurns = await runCli([...args, "--lines", "--json", "--endpoint", serve.baseUrl], {env: awayFromServer, input: turns});
        expect(remoteTurns.code, remoteTurns.stderr).toBe(0);
        const parse = (stdout: string) => stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as {content: string, stopReason: string, tokens: Record<string, number | null>});
        const local = parse(localTurns.stdout);
        const remoteParsed = parse(remoteTurns.stdout);
        expect(remoteParsed.map((turn) => turn.content)).toEqual(local.map((turn) => turn.content));
        expect(remoteParsed[1]).toMatchObject({role: "assistant", stopReason: local[1]!.stopReason, tokens: {generated: local[1]!.tokens.generated, contextSize: null}});
        // The server counts the whole conversation as the prompt of turn 2.
        expect(remoteParsed[1]!.tokens.prompt).toBeGreaterThan(remoteParsed[0]!.tokens.prompt!);
    });

    test("--json-schema travels as response_format: the standalone greedy object, and a cut one exits 3; --grammar is refused", async () => {
        const schema = path.join(repoRoot, "test", "fixtures", "schemas", "pet.json");
        const args = ["complete", "--model", tinyModel(), ...greedy, "--json-schema", schema, "-n", "200", "--json", "Pet:"];
        const standalone = await json<CompleteJson & {complete: boolean}>([...args, "--no-server"], awayFromServer);
        const remote = await json<CompleteJson & {complete: boolean}>([...args, "--endpoint", serve.baseUrl], awayFromServer);
        expect(standalone.complete).toBe(true);
        expect(remote).toMatchObject({text: standalone.text, complete: true});
        expect(Object.keys(JSON.parse(remote.text) as object).sort()).toEqual(["age", "kind", "name", "vaccinated", "weight"]);

        const cut = await runCli(["complete", "--endpoint", serve.baseUrl, ...greedy, "--json-schema", schema, "-n", "4", "Pet:"], {env: awayFromServer});
        expect(cut.code).toBe(3);
        expect(cut.stdout).toBe("");
        expect(cut.stderr).toContain("The output was cut at 4 tokens before the JSON was complete; raise --max-tokens.");

        const grammar = path.join(os.tmpdir(), `mixtral-client-yesno-${process.pid}.gbnf`);
        await writeFile(grammar, "root ::= \"yes\" | \"no\"\n");
        try {
            const refused = await runCli(["complete", "--endpoint", serve.baseUrl, "--grammar", grammar, "Is it?"], {env: awayFromServer});
            expect(refused.code).toBe(2);
            expect(refused.stderr).toMatch(/^error: --grammar is not sent to servers/);
        } finally {
            await rm(grammar, {force: true});
        }
    });

    test("a refused connection is one sentence and exit code 1", async () => {
        const closed = http.createServer();
        await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
        const port = (closed.address() as AddressInfo).port;
        await new Promise((resolve) => closed.close(resolve));
        for (const command of [["complete", "Hello"], ["chat"]]) {
            const result = await runCli([...command, "--endpoint", `http://127.0.0.1:${port}/v1`, "--model", "x"], {env: awayFromServer, input: "Hi\n"});
            expect(result.code).toBe(1);
            expect(result.stdout).toBe("");
            expect(result.stderr.split("\n")[0]).toBe(`error: Cannot reach http://127.0.0.1:${port}/v1 (connection refused).`);
            expect(result.stderr).not.toMatch(/\n\s+at /);
        }
    });

    test("a model name the server does not list is answered by its model, as llama-server does", async () => {
        const result = await runCli(["complete", "--endpoint", serve.baseUrl, "--model", "no-such-model", ...greedy, "-n", "4", "Hello"], {env: awayFromServer});
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout.length).toBeGreaterThan(0);
    });

    test("Ctrl+C cancels the request: partial text, exit code 130, and the server goes on", async () => {
        let interrupted = false;
        const result = await runCli(["complete", "--endpoint", serve.baseUrl, ...greedy, "-n", "1500", "Once upon a time"], {
            env: awayFromServer,
            onSpawn: (child) => child.stdout?.on("data", () => {
                if (interrupted) return;
                interrupted = true;
                child.kill("SIGINT");
            })
        });
        expect(result.code).toBe(130);
        expect(result.stdout.length).toBeGreaterThan(0);
        expect(result.stderr).not.toMatch(/error/);
        const after = await runCli(["complete", "--endpoint", serve.baseUrl, ...greedy, "-n", "4", "Hello"], {env: awayFromServer});
        expect(after.code, after.stderr).toBe(0);
    });
});

describe("the chat REPL through --endpoint", () => {
    test("Ctrl+C stops an answer and keeps the conversation; /stats and /exit work", async () => {
        const chat = runInPty(["chat", "--endpoint", serve.baseUrl, "--temperature", "0", "--max-tokens", "1500", "--no-history"], {env: {...awayFromServer, XDG_CONFIG_HOME: serve.runtimeDir}});
        await chat.expect("> ");
        await stopEachAnswer(chat, ["tell me a long story", "and another one"]);
        chat.write("/stats\r");
        await chat.expect(/messages +4\n/);
        await chat.expect(/context +\d+ tokens? \(the server's context size is not known\)/);
        chat.write("/exit\r");
        expect(await chat.exit()).toBe(0);
    });
});

describe("a mixtral serve of the same model file on this machine", () => {
    test("is used without --endpoint (--verbose says so) and never loads node-llama-cpp; --no-server loads the model here", async () => {
        const args = ["complete", "--model", tinyModel(), ...greedy, "-n", "16", "--verbose", "Hello there"];
        const client = await runCli(args, {env: {...nearServer, ...forbidEngine}});
        expect(client.code, client.stderr).toBe(0);
        expect(client.stderr).toContain(`using the mixtral serve at ${serve.baseUrl} (pid ${serve.child.pid})`);

        // The control: the same guard makes the standalone path fail, so the guard really guards.
        const guardedLocal = await runCli([...args, "--no-server"], {env: {...nearServer, ...forbidEngine}});
        expect(guardedLocal.code).toBe(1);
        expect(guardedLocal.stderr).toContain("node-llama-cpp was imported");

        const local = await runCli([...args, "--no-server"], {env: nearServer});
        expect(local.code, local.stderr).toBe(0);
        expect(local.stderr).not.toContain("using the mixtral serve");
        expect(local.stdout).toBe(client.stdout);
    });

    test("chat uses it too, and another model file is loaded here as before", async () => {
        const chat = await runCli(["chat", "--model", tinyModel(), ...greedy, "-n", "8", "--verbose"], {env: {...nearServer, ...forbidEngine}, input: "Hi\n"});
        expect(chat.code, chat.stderr).toBe(0);
        expect(chat.stderr).toContain("using the mixtral serve at");
        const other = await runCli(["complete", "--model", tinyModel("tiny-q4_0.gguf"), ...greedy, "-n", "4", "--verbose", "Hi"], {env: nearServer});
        expect(other.code, other.stderr).toBe(0);
        expect(other.stderr).not.toContain("using the mixtral serve");
    });
});

describe("a server that needs an API key", () => {
    test("gets MIXTRAL_API_KEY as a Bearer token; without it a 401 is one sentence, and the local server is passed over", async () => {
        const keyed = await startServe(["--api-key", "sk-local-test"]);
        try {
            const args = ["complete", "--model", tinyModel(), ...greedy, "-n", "4", "Hello"];
            const refused = await runCli([...args, "--endpoint", keyed.baseUrl], {env: awayFromServer});
            expect(refused.code).toBe(1);
            expect(refused.stderr).toMatch(/^error: http:\/\/127\.0\.0\.1:\d+\/v1 refused the API key \(HTTP 401\).*\.\nhint: Set MIXTRAL_API_KEY/);
            expect(refused.stderr).not.toContain("sk-local-test");
            const accepted = await runCli([...args, "--endpoint", keyed.baseUrl], {env: {...awayFromServer, MIXTRAL_API_KEY: "sk-local-test"}});
            expect(accepted.code, accepted.stderr).toBe(0);

            const near = {MIXTRAL_RUNTIME_DIR: keyed.runtimeDir};
            const withoutKey = await runCli([...args, "--verbose"], {env: {...near, MIXTRAL_API_KEY: ""}});
            expect(withoutKey.code, withoutKey.stderr).toBe(0);
            expect(withoutKey.stderr).toContain("needs an API key and MIXTRAL_API_KEY is not set");
            const withKey = await runCli([...args, "--verbose"], {env: {...near, MIXTRAL_API_KEY: "sk-local-test", ...forbidEngine}});
            expect(withKey.code, withKey.stderr).toBe(0);
            expect(withKey.stderr).toContain(`using the mixtral serve at ${keyed.baseUrl}`);
            expect(withKey.stdout).toBe(withoutKey.stdout);
        } finally {
            await keyed.stop();
        }
    });
});

describe("mixtral bench --endpoint", () => {
    test("prints one row a concurrency level with throughput, TTFT and inter-token latency", async () => {
        const result = await runCli(["bench", "--endpoint", serve.baseUrl, "--concurrency", "1,2", "--requests", "4", "-p", "16", "-n", "8", "-o", "jsonl"], {env: awayFromServer, timeoutMs: 120_000});
        expect(result.code, result.stderr).toBe(0);
        const rows = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, number | string>);
        expect(rows.map((row) => row.concurrency)).toEqual([1, 2]);
        for (const row of rows) {
            expect(row).toMatchObject({model: "tiny-q8_0", endpoint: serve.baseUrl, num_prompts: 4, completed: 4, failed: 0, output_len: 8, total_output_tokens: 32});
            for (const field of ["request_throughput", "output_throughput", "median_ttft_ms", "p99_ttft_ms", "median_itl_ms", "p99_itl_ms"])
                expect(row[field], field).toBeGreaterThan(0);
            expect(row.p99_ttft_ms as number).toBeGreaterThanOrEqual(row.median_ttft_ms as number);
            expect(row.total_input_tokens as number).toBeGreaterThanOrEqual(4 * 16);
        }
        const table = await runCli(["bench", "--endpoint", serve.baseUrl, "--concurrency", "2", "--requests", "2", "-p", "8", "-n", "4", "--no-warmup"], {env: awayFromServer});
        expect(table.code, table.stderr).toBe(0);
        expect(table.stdout).toMatch(/^\| model .*\| conc \| requests \|.*\| out tok\/s \| ttft med ms \| ttft p99 ms \| itl med ms \| itl p99 ms \|/);
        expect(table.stdout).toContain(`endpoint: ${serve.baseUrl}`);
    });
});
