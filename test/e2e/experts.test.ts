import {readFileSync} from "node:fs";
import {mkdtemp, rm} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {mixtralMetadata, mixtralTensors} from "../../scripts/gguf/mixtralModel.js";
import {writeGguf} from "../../src/gguf/write/writeGguf.js";
import {runInPty} from "./helpers/pty.js";
import {repoRoot, runCli} from "./helpers/runCli.js";
import {startServe, stopAllServers, type ServeProcess} from "./helpers/serveProcess.js";

// `--experts N` is llama.cpp's `--override-kv llama.expert_used_count=int:N`: with N experts a token,
// our greedy text must be llama.cpp's own. llama-completion's output was recorded once (see
// scripts/recordExpertsFixture.ts); the tests never run llama.cpp.
type Fixture = {model: string, prompt: string, tokens: number, completions: {experts: number, text: string}[]};
const fixture = JSON.parse(readFileSync(new URL("../fixtures/llama-completion/experts.json", import.meta.url), "utf8")) as Fixture;
const model = path.join(repoRoot, fixture.model);
const greedy = ["--temperature", "0", "--repeat-penalty", "1", "--max-tokens", String(fixture.tokens)];
const llamaCppText = (experts: number) => fixture.completions.find((completion) => completion.experts === experts)!.text;
/** complete --lines writes a newline inside an answer as \n. */
const oneLine = (text: string) => text.replace(/\r/g, "\\r").replace(/\n/g, "\\n");
/** Makes any import of node-llama-cpp fail: what passes with it never loaded the engine. */
const forbidEngine = {NODE_OPTIONS: `--import=${path.join(repoRoot, "test", "e2e", "helpers", "forbidNodeLlamaCpp.mjs")}`};

describe("--experts N gives llama.cpp's greedy text with the same override", () => {
    test("the recorded texts differ for 1, 2, 3 and 8 experts, so a dial that did nothing would fail", () => {
        expect(fixture.completions.map((completion) => completion.experts)).toEqual([1, 2, 3, 8]);
        expect(new Set(fixture.completions.map((completion) => completion.text)).size).toBe(4);
    });

    test.each([1, 2, 3, 8])("complete --experts %i", async (experts) => {
        // --raw: the text as generated, without the newline `complete` adds for a pipe.
        const result = await runCli(["complete", fixture.prompt, "-m", model, ...greedy, "--raw", "--experts", String(experts), "--no-server", "--verbose"]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toBe(llamaCppText(experts));
        // --verbose says so only when N is not the file's own 2.
        if (experts === 2) expect(result.stderr).not.toMatch(/--experts:/);
        else expect(result.stderr).toContain(`--experts: each token uses ${experts} of 8 experts (the file's 2)`);
    });

    test("complete --lines, two prompts decoded together, answers each as llama.cpp does", async () => {
        const result = await runCli(["complete", "-m", model, ...greedy, "--experts", "3", "--lines", "--parallel", "2", "--no-server"],
            {input: `${fixture.prompt}\n${fixture.prompt}\n`});
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toBe(`${oneLine(llamaCppText(3))}\n${oneLine(llamaCppText(3))}\n`);
    });
});

describe("serve --experts N", () => {
    let server: ServeProcess;
    beforeAll(async () => {
        server = await startServe(["--experts", "1", "--parallel", "2"], {model});
    });
    afterAll(stopAllServers);

    test("answers /v1/completions with llama.cpp's text for N, and says N on its start line", async () => {
        expect(server.stderr()).toMatch(/Serving .*1 of 8 experts \(the file's 2\)/);
        const response = await fetch(`${server.baseUrl}/completions`, {
            method: "POST",
            headers: {"content-type": "application/json"},
            body: JSON.stringify({model: "tiny", prompt: fixture.prompt, temperature: 0, max_tokens: fixture.tokens})
        });
        expect(response.status).toBe(200);
        const body = await response.json() as {choices: {text: string}[]};
        expect(body.choices[0]!.text).toBe(llamaCppText(1));
    });

    test("complete uses it only with the same --experts; --lines through it gets N's text too", async () => {
        const env = {MIXTRAL_RUNTIME_DIR: server.runtimeDir};
        const same = await runCli(["complete", "-m", model, ...greedy, "--experts", "1", "--lines", "--verbose"], {input: `${fixture.prompt}\n`, env});
        expect(same.code, same.stderr).toBe(0);
        expect(same.stderr).toMatch(/using the mixtral serve at /);
        expect(same.stdout).toBe(`${oneLine(llamaCppText(1))}\n`);

        const other = await runCli(["complete", fixture.prompt, "-m", model, ...greedy, "--raw", "--verbose"], {env});
        expect(other.code, other.stderr).toBe(0);
        expect(other.stderr).toMatch(/not using the server at .*: it routes each token to 1 expert, not the file's own count of experts/);
        expect(other.stdout).toBe(llamaCppText(2));
    });
});

describe("a bad --experts is one sentence and exit 2, before any load", () => {
    let directory: string;
    let dense: string;
    beforeAll(async () => {
        directory = await mkdtemp(path.join(os.tmpdir(), "mixtral-experts-"));
        dense = path.join(directory, "dense.gguf");
        await writeDenseModel(dense);
    });
    afterAll(async () => {
        await rm(directory, {recursive: true, force: true});
    });

    const firstLine = (stderr: string) => stderr.trim().split("\n")[0]!;

    test.each([
        ["0", /^error: option '--experts <n>' argument '0' is invalid\. expected a whole number of experts from 1/],
        ["two", /^error: option '--experts <n>' argument 'two' is invalid\. expected a whole number of experts from 1/],
        ["9", /^error: --experts 9 is outside 1–8: tiny-q8_0\.gguf has 8 experts\.$/]
    ])("complete --experts %s", async (value, message) => {
        const result = await runCli(["complete", "hello", "-m", model, "--experts", value, "--no-server"], {env: forbidEngine});
        expect(result.code, result.stderr).toBe(2);
        expect(firstLine(result.stderr)).toMatch(message);
        expect(result.stdout).toBe("");
        expect(result.stderr).not.toMatch(/\n\s+at |node-llama-cpp was imported/);
    });

    test("a dense model (no experts) refuses any --experts", async () => {
        const result = await runCli(["complete", "hello", "-m", dense, "--experts", "2", "--no-server"], {env: forbidEngine});
        expect(result.code, result.stderr).toBe(2);
        expect(firstLine(result.stderr)).toBe("error: --experts needs a mixture-of-experts model, and dense.gguf is dense (it has no experts to choose from).");
    });

    test("chat, bench and --endpoint refuse it as well; serve before it listens", async () => {
        const chat = await runCli(["chat", "-m", model, "--experts", "9", "--no-server"], {input: "hi\n", env: forbidEngine});
        expect(chat.code, chat.stderr).toBe(2);
        expect(firstLine(chat.stderr)).toMatch(/^error: --experts 9 is outside 1–8/);

        const bench = await runCli(["bench", "-m", model, "-p", "0", "-n", "4", "--experts", "1,9"], {env: forbidEngine});
        expect(bench.code, bench.stderr).toBe(2);
        expect(firstLine(bench.stderr)).toMatch(/^error: --experts 9 is outside 1–8/);
        expect(bench.stdout).toBe("");

        const endpoint = await runCli(["complete", "hi", "--endpoint", "http://127.0.0.1:9/v1", "--experts", "1"], {env: forbidEngine});
        expect(endpoint.code).toBe(2);
        expect(firstLine(endpoint.stderr)).toBe("error: --experts applies when a model loads, so it does not combine with --endpoint.");

        const serve = await runCli(["serve", "-m", dense, "--experts", "1", "--port", "0"]);
        expect(serve.code, serve.stderr).toBe(2);
        expect(firstLine(serve.stderr)).toMatch(/^error: --experts needs a mixture-of-experts model/);
        expect(serve.stderr).not.toMatch(/Serving|Loading/);
    });
});

describe("bench --experts 1,2", () => {
    test("runs a row per N, with n_expert_used and a roofline that follows N", async () => {
        const result = await runCli(["bench", "-m", model, "-p", "0", "-n", "8", "-r", "1", "--experts", "1,2", "--bandwidth", "10", "-o", "jsonl"]);
        expect(result.code, result.stderr).toBe(0);
        const rows = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as {n_expert_used: number, roofline_ts: number});
        expect(rows.map((row) => row.n_expert_used)).toEqual([1, 2]);
        // One expert of 8 reads fewer bytes a token than two: a higher ceiling.
        expect(rows[0]!.roofline_ts).toBeGreaterThan(rows[1]!.roofline_ts);
    });
});

describe("doctor --experts N", () => {
    test("plans decode with N experts a token beside Mixtral's 2, and refuses 9 in one sentence", async () => {
        const result = await runCli(["doctor", "--gpu", "cpu", "--ram", "64GB", "--experts", "1", "--json"], {env: forbidEngine});
        expect(result.code, result.stderr).toBe(0);
        const {plan} = JSON.parse(result.stdout) as {plan: {decode: {expertsUsed: number, bytesPerToken: number, fileDefault: {expertsUsed: number, bytesPerToken: number}}}};
        expect(plan.decode.expertsUsed).toBe(1);
        expect(plan.decode.fileDefault.expertsUsed).toBe(2);
        // One expert of 8 in every layer instead of two: about 56% of the bytes.
        expect(plan.decode.bytesPerToken / plan.decode.fileDefault.bytesPerToken).toBeCloseTo(0.558, 2);

        const text = await runCli(["doctor", "--gpu", "cpu", "--ram", "64GB", "--experts", "1"], {env: forbidEngine});
        expect(text.stdout).toMatch(/decode +reads ~[\d.]+ GB of weights a token \(1 of 8 experts; ~[\d.]+ GB at Mixtral's 2\)/);

        const bad = await runCli(["doctor", "--experts", "9"], {env: forbidEngine});
        expect(bad.code).toBe(2);
        expect(bad.stderr.trim().split("\n")[0]).toBe("error: --experts 9 is outside 1–8: Mixtral 8x7B has 8 experts.");
    });
});

describe("/set experts in the chat REPL", () => {
    test("reloads the model only when N changes, and the start line says N", async () => {
        const chat = runInPty(["chat", "-m", model, "--temperature", "0", "--max-tokens", "4", "--no-history", "--experts", "3", "--no-server"],
            {env: {XDG_CONFIG_HOME: os.tmpdir()}});
        await chat.expect(/3 of 8 experts \(the file's 2\)[\s\S]*\n> /);
        chat.write("/set experts 3\r");
        await chat.expect(/each token already uses 3 experts; nothing to reload\)[\s\S]*\n> /);
        chat.write("/set experts 9\r");
        await chat.expect(/--experts 9 is outside 1–8[\s\S]*\n> /);
        chat.write("/set experts 1\r");
        await chat.expect(/reloaded: each token now uses 1 of 8 experts \(the file's 2\)[\s\S]*\n> /);
        chat.write("/show\r");
        await chat.expect(/experts +1 of 8 experts \(the file's 2\)[\s\S]*\n> /);
        chat.write("/exit\r");
        expect(await chat.exit()).toBe(0);
    });
});

/** A llama file without experts: one feed-forward network a block (ffn_gate/up/down), no router. */
async function writeDenseModel(file: string) {
    const shape = {dim: 64, ffDim: 128, layers: 2, heads: 4, kvHeads: 2, vocabSize: 600, contextLength: 512, tensorType: "F32" as const, seed: 3, name: "dense"};
    const metadata = {...mixtralMetadata(shape)};
    delete metadata["llama.expert_count"];
    delete metadata["llama.expert_used_count"];
    const tensors = mixtralTensors(shape)
        .filter((tensor) => !tensor.name.endsWith("ffn_gate_inp.weight"))
        .map((tensor) => {
            if (!tensor.name.endsWith("_exps.weight")) return tensor;
            const dimensions = tensor.dimensions.slice(0, 2);
            return {...tensor, name: tensor.name.replace("_exps", ""), dimensions, data: () => [new Float32Array(dimensions[0]! * dimensions[1]!)]};
        });
    await writeGguf(file, metadata, tensors);
}
