import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {testModelOptions} from "../../scripts/gguf/testModels.js";
import {mixtralModules, writeMergedModel, writeTinyPeftAdapter, type TinyPeftAdapter} from "./helpers/loraFixtures.js";
import {runCli, tinyModel} from "./helpers/runCli.js";
import {startServe, stopAllServers} from "./helpers/serveProcess.js";

const greedy = ["--temperature", "0", "--repeat-penalty", "1", "-n", "24"];
const prompt = "The cat sat on the";
const baseModel = tinyModel("tiny-f32.gguf");

let dir: string;
let adapter: TinyPeftAdapter;
let converted: string;
let merged: string;

async function completeText(args: string[]): Promise<string> {
    const result = await runCli(["complete", ...greedy, "--json", ...args, prompt]);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as {text: string}).text;
}

/** The base and merged models' greedy texts, computed once (each run loads a model). */
const memo = new Map<string, Promise<string>>();
const baseText = () => memoized("base", () => completeText(["-m", baseModel]));
const mergedText = () => memoized("merged", () => completeText(["-m", merged]));
function memoized(key: string, run: () => Promise<string>): Promise<string> {
    if (!memo.has(key)) memo.set(key, run());
    return memo.get(key)!;
}

async function convert(folder: string, ...args: string[]) {
    return runCli(["adapter", "convert", folder, ...args]);
}

/** One sentence (and its hint) on stderr, no stack trace. */
function expectOneClearError(stderr: string, pattern: RegExp) {
    expect(stderr).toMatch(pattern);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
}

beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "mixtral-lora-"));
    const shape = testModelOptions["tiny-f32"];
    adapter = await writeTinyPeftAdapter(path.join(dir, "peft"), {modules: mixtralModules(shape), rank: 4, alpha: 8, dtype: "BF16"});
    merged = path.join(dir, "merged.gguf");
    await writeMergedModel(merged, shape, adapter);
    converted = path.join(dir, "tiny-lora.gguf");
    const result = await convert(adapter.folder, "--base", baseModel, "-o", converted);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(converted);
}, 120_000);

afterAll(async () => {
    await stopAllServers();
    await fs.rm(dir, {recursive: true, force: true});
});

describe("LoRA adapters", () => {
    test("complete --lora gives at temperature 0 the tokens of the model with W + (alpha/r)·B·A merged in", async () => {
        const withLora = await completeText(["-m", baseModel, "--lora", converted]);
        const withMerged = await mergedText();
        const base = await baseText();
        expect(withLora).toBe(withMerged);
        // the adapter really changes the model, so the equality above can fail
        expect(withLora).not.toBe(base);
    }, 120_000);

    test("scale 0 gives the base model's tokens, with --lora-scaled and with file:scale", async () => {
        const base = await baseText();
        expect(await completeText(["-m", baseModel, "--lora-scaled", converted, "0"])).toBe(base);
        expect(await completeText(["-m", baseModel, "--lora", `${converted}:0`])).toBe(base);
        // scale 1 written out is the same as no scale
        expect(await completeText(["-m", baseModel, "--lora-scaled", converted, "1"])).toBe(await mergedText());
    }, 120_000);

    test("chat and bench take --lora too: chat answers like the merged model, bench runs with the adapter", async () => {
        const chat = (model: string, ...extra: string[]) => runCli(["chat", "-m", model, ...greedy, ...extra], {input: "Hello there"});
        const [withLora, withMerged] = await Promise.all([chat(baseModel, "--lora", converted), chat(merged)]);
        expect(withLora.code, withLora.stderr).toBe(0);
        expect(withLora.stdout).toBe(withMerged.stdout);

        const bench = await runCli(["bench", "-m", baseModel, "--lora", converted, "-p", "8", "-n", "4", "-r", "1", "--no-warmup", "-o", "json"]);
        expect(bench.code, bench.stderr).toBe(0);
        expect(JSON.parse(bench.stdout)).toHaveLength(2);
        const mismatched = await runCli(["bench", "-m", baseModel, "--lora", tinyModel("tiny-q8_0.gguf"), "-p", "8", "-n", "0", "-r", "1"]);
        expect(mismatched.code).toBe(1);
        expect(mismatched.stderr).toMatch(/is not a LoRA adapter/);
    }, 120_000);

    test("serve --lora answers a raw completion like the merged model", async () => {
        const server = await startServe(["--lora", converted, "--parallel", "1"], {model: baseModel});
        try {
            const response = await fetch(`${server.baseUrl}/completions`, {
                method: "POST",
                headers: {"content-type": "application/json"},
                body: JSON.stringify({prompt, max_tokens: 24, temperature: 0})
            });
            expect(response.status).toBe(200);
            const answer = await response.json() as {choices: {text: string}[]};
            expect(answer.choices[0]!.text).toBe(await mergedText());
            // a plain `complete` of the same file must not be answered by the fine-tuned server
            const plain = await runCli(["complete", "-m", baseModel, ...greedy, "--json", "--verbose", prompt], {env: {MIXTRAL_RUNTIME_DIR: server.runtimeDir}});
            expect(plain.code, plain.stderr).toBe(0);
            expect(plain.stderr).toMatch(/not using the server at http:\/\/127\.0\.0\.1:\d+\/v1 \(pid \d+\): it applies LoRA adapters/);
            expect((JSON.parse(plain.stdout) as {text: string}).text).toBe(await baseText());
        } finally {
            await stopAllServers();
        }
    }, 120_000);

    test("the converted file is what llama.cpp expects: adapter metadata, lora_a [in, r], lora_b [r, out], experts stacked", async () => {
        const {readAdapterFile} = await import("../../src/adapters/readAdapterFile.js");
        const file = await readAdapterFile(converted);
        expect(file.architecture).toBe("llama");
        expect(file.alpha).toBe(8);
        const {dim, ffDim, heads, kvHeads} = testModelOptions["tiny-f32"];
        const kvDim = kvHeads * (dim / heads);
        expect(file.tensors.get("blk.0.attn_q.weight.lora_a")).toEqual([dim, 4]);
        expect(file.tensors.get("blk.0.attn_q.weight.lora_b")).toEqual([4, dim]);
        expect(file.tensors.get("blk.1.attn_k.weight.lora_b")).toEqual([4, kvDim]);
        expect(file.tensors.get("blk.0.ffn_down_exps.weight.lora_a")).toEqual([ffDim, 4, 8]);
        expect(file.tensors.get("blk.0.ffn_gate_exps.weight.lora_b")).toEqual([4, ffDim, 8]);
        expect(file.tensors.size).toBe(2 * 2 * 7);
    });

    test("an adapter for another model shape is one clear error before generation", async () => {
        const other = await writeTinyPeftAdapter(path.join(dir, "other"), {
            modules: mixtralModules({dim: 128, ffDim: 128, layers: 2, heads: 4, kvHeads: 2}, ["v_proj", "o_proj"]),
            config: {base_model_name_or_path: "mistralai/Mixtral-8x7B-v0.1"}
        });
        const otherGguf = path.join(dir, "other.gguf");
        expect((await convert(other.folder, "-o", otherGguf)).code).toBe(0);
        const result = await runCli(["complete", "-m", baseModel, "--lora", otherGguf, ...greedy, prompt]);
        expect(result.code).toBe(1);
        expect(result.stdout).toBe("");
        expectOneClearError(result.stderr, /does not fit .*tiny-f32\.gguf: blk\.0\.attn_\w+\.weight is \[64, \d+\] in the model but the adapter.s lora_a is \[128, 4\]/);
    }, 60_000);

    test("a model passed as --lora is one clear error", async () => {
        const result = await runCli(["complete", "-m", baseModel, "--lora", tinyModel("tiny-q8_0.gguf"), ...greedy, prompt]);
        expect(result.code).toBe(1);
        expectOneClearError(result.stderr, /is not a LoRA adapter/);
    });

    test("a truncated safetensors file is one clear error and leaves no output file", async () => {
        const cut = path.join(dir, "cut");
        await fs.cp(adapter.folder, cut, {recursive: true});
        const weights = path.join(cut, "adapter_model.safetensors");
        const {size} = await fs.stat(weights);
        await fs.truncate(weights, Math.floor(size * 0.6));
        const out = path.join(dir, "cut.gguf");
        const result = await convert(cut, "--base", baseModel, "-o", out);
        expect(result.code).toBe(1);
        expectOneClearError(result.stderr, /adapter_model\.safetensors is not a complete safetensors file: tensor .* ends at byte \d+ of the data but the file holds \d+/);
        await expect(fs.access(out)).rejects.toThrow();
    });

    test("an unsupported module, DoRA and a non-Mixtral base are each one clear error naming it", async () => {
        const unmapped = await writeTinyPeftAdapter(path.join(dir, "unmapped"), {modules: [{module: "model.layers.0.self_attn.qkv_proj", inputs: 64, outputs: 192}]});
        let result = await convert(unmapped.folder, "--base", baseModel);
        expect(result.code).toBe(1);
        expectOneClearError(result.stderr, /Unsupported adapter: no llama\.cpp tensor for module model\.layers\.0\.self_attn\.qkv_proj/);

        const dora = await writeTinyPeftAdapter(path.join(dir, "dora"), {modules: mixtralModules(testModelOptions["tiny-f32"], ["v_proj"]), config: {use_dora: true}});
        result = await convert(dora.folder, "--base", baseModel);
        expect(result.code).toBe(1);
        expectOneClearError(result.stderr, /Unsupported adapter: DoRA/);

        const qwen = await writeTinyPeftAdapter(path.join(dir, "qwen"), {modules: mixtralModules(testModelOptions["tiny-f32"], ["v_proj"]), config: {base_model_name_or_path: "Qwen/Qwen2-7B"}});
        result = await convert(qwen.folder);
        expect(result.code).toBe(1);
        expectOneClearError(result.stderr, /trained on Qwen\/Qwen2-7B, not a Mixtral\/Llama model/);

        const saved = await writeTinyPeftAdapter(path.join(dir, "saved"), {
            modules: mixtralModules(testModelOptions["tiny-f32"], ["v_proj"]),
            extraTensors: [{name: "base_model.model.lm_head.weight", shape: [600, 64]}]
        });
        result = await convert(saved.folder, "--base", baseModel);
        expect(result.code).toBe(1);
        expectOneClearError(result.stderr, /tensor base_model\.model\.lm_head\.weight is not a LoRA A\/B matrix/);
    }, 60_000);
});
