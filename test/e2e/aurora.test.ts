import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {testModelOptions} from "../../scripts/gguf/testModels.js";
import {startFakeHuggingFace, type FakeHuggingFace} from "./helpers/fakeHuggingFace.js";
import {writeCjkPeftAdapter} from "./helpers/loraFixtures.js";
import {runCli, tinyModel} from "./helpers/runCli.js";

/**
 * `aurora` end to end against a local server shaped like Hugging Face: the test catalog publishes the
 * tiny F32 model as instruct:Q8_0 and, as the Aurora repo, a PEFT adapter on lm_head that makes the
 * tiny model answer in Chinese characters (see writeCjkPeftAdapter). Pull fetches, verifies and
 * converts; everything after runs with the server gone.
 */
const modelRepo = "mixtral-test/tiny-GGUF";
const auroraRepo = "mixtral-test/Aurora";
const cjkOnly = /^[日本]+$/u;

let dir: string;
let server: FakeHuggingFace;
let env: Record<string, string>;

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-aurora-"));
    const peft = await writeCjkPeftAdapter(path.join(dir, "peft"), testModelOptions["tiny-f32"], "BF16");
    const tiny = fs.readFileSync(tinyModel("tiny-f32.gguf"));
    server = await startFakeHuggingFace([
        {repo: modelRepo, file: "tiny-f32.gguf", data: tiny},
        {repo: auroraRepo, file: "adapter_config.json", data: fs.readFileSync(path.join(peft.folder, "adapter_config.json"))},
        {repo: auroraRepo, file: "adapter_model.safetensors", data: fs.readFileSync(path.join(peft.folder, "adapter_model.safetensors"))}
    ]);
    fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify({
        models: [{name: "instruct:Q8_0", variant: "instruct", quant: "Q8_0", repo: modelRepo, file: "tiny-f32.gguf", bytes: tiny.length, bytesExact: true, bitsPerWeight: 8.5, sha256: null}],
        fineTunes: [{name: "aurora", description: "test Aurora (answers in CJK)", base: "instruct", repo: auroraRepo, bytes: null}]
    }));
    env = {
        HF_ENDPOINT: server.url,
        MIXTRAL_CATALOG: path.join(dir, "catalog.json"),
        MIXTRAL_MODELS: path.join(dir, "store"),
        HOME: dir,
        XDG_CACHE_HOME: path.join(dir, "cache"),
        XDG_CONFIG_HOME: path.join(dir, "config")
    };
}, 60_000);

afterAll(async () => {
    await server.stop();
    fs.rmSync(dir, {recursive: true, force: true});
});

const greedy = ["--temperature", "0", "--repeat-penalty", "1", "-n", "12"];

describe("aurora: the instruct model plus the Aurora adapter, in one name", () => {
    test("chat -m aurora without the adapter and without consent names the pull to run", async () => {
        const result = await runCli(["chat", "-m", "aurora:Q8_0", ...greedy], {env: {...env, MIXTRAL_MODELS: path.join(dir, "empty")}, input: "你好"});
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/^error: instruct:Q8_0 is not downloaded\.\nhint: Run: mixtral pull instruct:Q8_0/);
    });

    test("pull aurora fetches the planned base file and the adapter, verifies them and converts the adapter once", async () => {
        const result = await runCli(["pull", "aurora"], {env, timeoutMs: 120_000});
        expect(result.code, result.stderr).toBe(0);
        const [modelPath, adapterPath] = result.stdout.trim().split("\n");
        expect(modelPath).toBe(path.join(dir, "store", "tiny-f32.gguf"));
        expect(adapterPath).toBe(path.join(dir, "store", "hf", "mixtral-test", "Aurora", "aurora.lora.gguf"));
        expect(fs.existsSync(modelPath!) && fs.existsSync(adapterPath!)).toBe(true);
        // verified against the sha256 the server announces, sized by the server (the catalog has no size)
        expect(result.stderr).toMatch(/Downloading adapter_model\.safetensors \([\d.]+ [kM]B\)/);
        expect(result.stderr).toMatch(/adapter_model\.safetensors downloaded and verified: sha256 [0-9a-f]{64} matches the one the server published\./);
        expect(result.stderr).toMatch(/aurora adapter ready: 1 LoRA pair, rank 64/);
        expect(server.requests.some((request) => request.path.endsWith("/adapter_model.safetensors"))).toBe(true);

        const again = await runCli(["pull", "aurora", "--json"], {env});
        expect(again.code, again.stderr).toBe(0);
        expect(JSON.parse(again.stdout)).toMatchObject({name: "aurora", model: {name: "instruct:Q8_0", alreadyPresent: true}, adapter: {path: adapterPath, converted: false}});
    }, 180_000);

    test("then runs offline: chat -m aurora answers in whole CJK characters, piped, with --lines and --json", async () => {
        const offline = {...env, HF_ENDPOINT: "http://127.0.0.1:9"};
        const requestsBefore = server.requests.length;
        const single = await runCli(["chat", "-m", "aurora", ...greedy], {env: offline, input: "你好，世界！请用中文回答。"});
        expect(single.code, single.stderr).toBe(0);
        expect(single.stdout.trim()).toMatch(cjkOnly);
        expect([...single.stdout.trim()].length).toBe(12);

        const lines = await runCli(["chat", "-m", "aurora", ...greedy, "--lines", "--json"], {env: offline, input: "你好\n再见，朋友\n"});
        expect(lines.code, lines.stderr).toBe(0);
        const turns = lines.stdout.trim().split("\n").map((line) => JSON.parse(line) as {content: string});
        expect(turns).toHaveLength(2);
        for (const turn of turns) expect(turn.content).toMatch(cjkOnly);

        const completed = await runCli(["complete", "-m", "aurora", ...greedy, "--json", "日本語のテキスト"], {env: offline});
        expect(completed.code, completed.stderr).toBe(0);
        const json = JSON.parse(completed.stdout) as {text: string};
        expect(json.text.trim()).toMatch(cjkOnly);
        const prompts = ["你好", "今天天气怎么样？", "日本"];
        const perLine = await runCli(["complete", "-m", "aurora", ...greedy, "--lines", "--json"], {env: offline, input: prompts.join("\n") + "\n"});
        expect(perLine.code, perLine.stderr).toBe(0);
        const answers = perLine.stdout.trim().split("\n").map((line) => JSON.parse(line) as {prompt: string, text: string});
        expect(answers.map((answer) => answer.prompt)).toEqual(prompts);
        for (const answer of answers) expect(answer.text.trim()).toMatch(cjkOnly);
        for (const output of [single.stdout, lines.stdout, completed.stdout, perLine.stdout]) expect(output).not.toContain("\uFFFD");
        expect(server.requests.length).toBe(requestsBefore);
    }, 180_000);

    test("models lists aurora with both parts, the adapter as downloaded", async () => {
        const result = await runCli(["models", "--json"], {env});
        expect(result.code, result.stderr).toBe(0);
        const listing = JSON.parse(result.stdout) as {fineTunes: {name: string, base: string, adapter: {repo: string, downloaded: boolean, bytes: number}}[], otherFiles: unknown[]};
        expect(listing.fineTunes).toEqual([expect.objectContaining({name: "aurora", base: "instruct", adapter: expect.objectContaining({repo: auroraRepo, downloaded: true})})]);
        expect(listing.otherFiles).toEqual([]);
        const table = await runCli(["models"], {env});
        expect(table.stdout).toMatch(/aurora\[:<quant>\] = instruct:<quant> \+ LoRA mixtral-test\/Aurora .* downloaded/);
    });

    test("models path aurora prints the adapter; models rm aurora removes the adapter and keeps the base model", async () => {
        const adapterPath = path.join(dir, "store", "hf", "mixtral-test", "Aurora", "aurora.lora.gguf");
        const where = await runCli(["models", "path", "aurora"], {env});
        expect(where.code, where.stderr).toBe(0);
        expect(where.stdout).toBe(adapterPath + "\n");
        const removed = await runCli(["models", "rm", "aurora"], {env});
        expect(removed.code, removed.stderr).toBe(0);
        expect(removed.stderr.trim().split("\n")).toHaveLength(3);
        expect(fs.existsSync(adapterPath)).toBe(false);
        expect(fs.existsSync(path.join(dir, "store", "tiny-f32.gguf"))).toBe(true);
        const gone = await runCli(["models", "path", "aurora"], {env});
        expect(gone.code).toBe(1);
        expect(gone.stderr).toMatch(/^error: The aurora adapter is not downloaded\.\nhint: Run: mixtral pull aurora/);
    });
});
