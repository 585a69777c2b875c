import {beforeAll, describe, expect, test} from "vitest";
import {runCli, tinyModel, type CliResult} from "./helpers/runCli.js";

// KV-cache types and flash attention on the real CPU engine, with the 32k test model (heads of 32
// values, so q8_0 and q4_0 blocks fit them).
const longModel = tinyModel("tiny-32k-q8_0.gguf");
const greedy = ["--temperature", "0", "--max-tokens", "12", "--json"];

type CompleteJson = {text: string, tokens: {prompt: number, generated: number}};

async function complete(cacheFlags: string[], prompt = "The cache keeps"): Promise<CompleteJson> {
    const result = await runCli(["complete", "-m", longModel, ...greedy, ...cacheFlags, prompt]);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as CompleteJson;
}

const settings: {name: string, flags: string[]}[] = [
    {name: "f16, flash attention auto (the default)", flags: []},
    {name: "f16, flash attention off", flags: ["--flash-attention", "off"]},
    {name: "q8_0 K and V (flash attention auto turns on)", flags: ["--cache-type-k", "q8_0", "--cache-type-v", "q8_0"]},
    {name: "q4_0 K and V, flash attention on (llama.cpp spellings)", flags: ["-ctk", "q4_0", "-ctv", "q4_0", "-fa", "on"]},
    {name: "q8_0 K only, flash attention off", flags: ["--cache-type-k", "q8_0", "--flash-attention", "off"]}
];

describe("complete with each KV-cache type and flash-attention setting", () => {
    test.each(settings)("$name: runs, and greedy output is the same run to run", async ({flags}) => {
        const [first, second] = await Promise.all([complete(flags), complete(flags)]);
        expect(first.tokens.generated).toBeGreaterThan(0);
        expect(second.text).toBe(first.text);
    });

    test("a quantized V cache without flash attention is refused in one sentence, before the model is even looked at", async () => {
        const result = await runCli(["complete", "-m", "/no/such/model.gguf", "--cache-type-v", "q8_0", "--flash-attention", "off", "hi"]);
        expect(result.code).toBe(2);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(/^error: A quantized V cache \(--cache-type-v q8_0\) needs flash attention, so it cannot run with --flash-attention off\.\nhint: .+\n$/);
    });

    test("a quantized cache on heads that are not a multiple of 32 values is refused before loading", async () => {
        // tiny-q8_0 has heads of 16 values: llama.cpp would fail to create the context (or abort).
        const result = await runCli(["complete", "-m", tinyModel(), "-ctk", "q8_0", "hi"]);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/^error: This model's attention heads hold 16 values, not a multiple of q8_0's 32-value blocks, so its K cache cannot be q8_0\.\nhint: Use --cache-type-k f16/);
    });

    test("an unknown cache type is a usage error naming the choices", async () => {
        const result = await runCli(["chat", "-m", longModel, "--cache-type-k", "q5_1"], {input: "hi\n"});
        expect(result.code).toBe(2);
        expect(result.stderr).toContain("Allowed choices are f16, q8_0, q4_0");
    });

    test("serve refuses the same impossible combination before it listens", async () => {
        const result = await runCli(["serve", "-m", longModel, "--port", "0", "--cache-type-v", "q4_0", "--flash-attention", "off"], {timeoutMs: 30_000});
        expect(result.code).toBe(2);
        expect(result.stderr).toContain("needs flash attention");
        expect(result.stderr).not.toContain("Serving");
    });
});

describe("the KV cache by use, as --verbose reports it (the real engine)", () => {
    // Three loads at once: chat and a long-prompt complete on the 32k model (heads of 32: q8_0 fits),
    // complete on the main test model (heads of 16: it does not).
    let runs: Promise<CliResult[]>;
    beforeAll(() => {
        runs = Promise.all([
            runCli(["chat", "-m", longModel, "--no-server", "--temperature", "0", "--max-tokens", "2", "--verbose"], {input: "hello\n"}),
            runCli(["complete", "-m", longModel, "--temperature", "0", "--max-tokens", "1", "--verbose", "alpha beta gamma delta ".repeat(20)]),
            runCli(["complete", "-m", tinyModel(), "--temperature", "0", "--max-tokens", "2", "--verbose", "hi"])
        ]);
    });
    const kvLine = (stderr: string) => /^KV cache: .*$/m.exec(stderr)?.[0];

    test("chat on the CPU gets a q8_0 K cache with flash attention off, and says why", async () => {
        const [chat] = await runs;
        expect(chat.code, chat.stderr).toBe(0);
        expect(kvLine(chat.stderr)).toBe("KV cache: q8_0/f16, flash attention off (chat on the CPU: generation at 16384 tokens of context is 1.40× faster with a q8_0 K cache and flash attention off)");
        // llama.cpp's own log of the context it made.
        expect(chat.stderr).toMatch(/K \(q8_0\): .* V \(f16\)/);
        expect(chat.stderr).toMatch(/flash_attn += (0|disabled)/);
    });

    test("complete with a long prompt and one token out keeps f16", async () => {
        const [, complete] = await runs;
        expect(complete.code, complete.stderr).toBe(0);
        expect(kvLine(complete.stderr)).toMatch(/^KV cache: f16, flash attention auto \(complete on the CPU, \d+ prompt tokens and up to 1 out: prompt evaluation is 1\.07–1\.16× faster with f16 and flash attention/);
    });

    test("heads of 16 values keep f16, and the line says so", async () => {
        const [, , tiny] = await runs;
        expect(tiny.code, tiny.stderr).toBe(0);
        expect(kvLine(tiny.stderr)).toBe("KV cache: f16, flash attention auto (this model's attention heads hold 16 values, not a multiple of q8_0's 32-value blocks)");
    });
});

describe("doctor shows the KV cache by use", () => {
    test("a CPU plan: chat and serve a q8_0 K cache, complete f16 above its prompt limit (--json), and the text report", async () => {
        const flags = ["doctor", "--gpu", "cpu", "--ram", "64GB"];
        const [json, text] = await Promise.all([runCli([...flags, "--json"]), runCli(flags)]);
        expect(json.code, json.stderr).toBe(0);
        const {plan} = JSON.parse(json.stdout) as {plan: {kvCacheByUse: Record<string, Record<string, unknown>>}};
        expect(plan.kvCacheByUse.chat).toMatchObject({kvCacheType: "q8_0/f16", kvCacheTypeK: "q8_0", kvCacheTypeV: "f16", flashAttention: "off"});
        expect(plan.kvCacheByUse.serve).toMatchObject({kvCacheType: "q8_0/f16", flashAttention: "off"});
        expect(plan.kvCacheByUse.complete).toMatchObject({kvCacheType: "f16", maxTokens: 256});
        expect(plan.kvCacheByUse.complete!.q8UpToPromptTokens).toBeGreaterThan(4500);
        expect(text.stdout).toMatch(/KV by use +chat, serve: q8_0\/f16, flash attention off \(chat on the CPU: generation at 16384 tokens/);
        expect(text.stdout).toMatch(/\n +complete: f16, flash attention auto \(complete on the CPU at -n 256: a q8_0 K cache for prompts up to \d+ tokens, f16 for longer ones/);
    });

    test("a GPU plan keeps f16 for every use", async () => {
        const result = await runCli(["doctor", "--gpu", "cuda", "--vram", "24GB", "--ram", "64GB", "--json"]);
        const {plan} = JSON.parse(result.stdout) as {plan: {kvCacheByUse: Record<string, {kvCacheType: string, reason: string}>}};
        expect(Object.values(plan.kvCacheByUse).map((use) => use.kvCacheType)).toEqual(["f16", "f16", "f16"]);
        expect(plan.kvCacheByUse.chat!.reason).toBe("on a GPU (cuda): f16 unless memory needs less");
    });
});

describe("bench -ctk, -ctv and -fa lists", () => {
    test("run every combination and write llama-bench's type_k, type_v and flash_attn fields", async () => {
        const result = await runCli(["bench", "-m", longModel, "-p", "16", "-n", "4", "-r", "1", "--no-warmup",
            "-ctk", "f16,q8_0", "-ctv", "q8_0", "-fa", "1", "-o", "json"], {timeoutMs: 120_000});
        expect(result.code, result.stderr).toBe(0);
        const rows = JSON.parse(result.stdout) as {type_k: string, type_v: string, flash_attn: number, n_prompt: number, n_gen: number}[];
        expect(rows.map((row) => [row.type_k, row.type_v, row.flash_attn, row.n_prompt, row.n_gen])).toEqual([
            ["f16", "q8_0", 1, 16, 0], ["f16", "q8_0", 1, 0, 4],
            ["q8_0", "q8_0", 1, 16, 0], ["q8_0", "q8_0", 1, 0, 4]
        ]);
    });

    test("the markdown table shows type_k, type_v and fa columns as llama-bench does", async () => {
        const result = await runCli(["bench", "-m", longModel, "-p", "0", "-n", "2", "-r", "1", "--no-warmup", "-ctk", "q4_0", "-ctv", "q4_0", "-fa", "auto,1", "-o", "md"], {timeoutMs: 120_000});
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/\| type_k \| type_v \|  fa \|/);
        expect(result.stdout).toMatch(/\|   q4_0 \|   q4_0 \|  -1 \|/);
    });

    test("-fa 0 with a quantized V cache is refused before anything runs", async () => {
        const result = await runCli(["bench", "-m", longModel, "-ctv", "q8_0", "-fa", "0,1"]);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/^error: A quantized V cache \(-ctv q8_0\) needs flash attention, so it cannot run with -fa 0\./);
    });
});

describe("doctor shows the planned KV cache", () => {
    test("24 GB of CUDA and 64 GB of RAM at 32k: Q3_K_M with all 33 layers on the GPU and a q8_0 cache, with its bytes", async () => {
        const result = await runCli(["doctor", "--gpu", "cuda", "--vram", "24GB", "--ram", "64GB", "-c", "32768", "--json"]);
        expect(result.code, result.stderr).toBe(0);
        const {plan} = JSON.parse(result.stdout) as {plan: Record<string, any>};
        expect(plan).toMatchObject({quant: "Q3_K_M", gpuLayers: 33, placement: "gpu", kvCacheType: "q8_0", kvCacheTypeK: "q8_0", kvCacheTypeV: "q8_0",
            flashAttention: "on", kvBytesPerToken: 68 * 1024, memory: {kvCacheBytes: 32768 * 68 * 1024}});
        expect(plan.reason).toContain("q8_0 KV cache (with f16 no quant fits entirely in VRAM");
    });

    test("the text report names the cache, its size and flash attention", async () => {
        const result = await runCli(["doctor", "--gpu", "metal", "--ram", "32GB", "-c", "32768"]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/context +32768 tokens, q8_0 KV cache \(2\.1 GiB\), flash attention on/);
    });

    test("doctor refuses a quantized V cache with flash attention off like the model commands", async () => {
        const result = await runCli(["doctor", "--gpu", "cuda", "--vram", "24GB", "--ram", "64GB", "--cache-type-v", "q8_0", "--flash-attention", "off"]);
        expect(result.code).toBe(2);
        expect(result.stderr).toContain("needs flash attention");
    });
});

describe("Mixtral's 32k context end to end", () => {
    // About 16,800 tokens a message: two exchanges no longer fit in 32768 tokens. (~37k tokens to
    // evaluate: seconds of one CPU core with this one-head model, minutes on a crowded machine.)
    const words = ["alpha", "beta", "gamma", "delta", "river", "stone", "cloud", "light"];
    // Pseudo-random word order: a periodic text would be a shifted copy of the other message, and the
    // context shift would rightly reuse most of it instead of evaluating the new message.
    const message = (seed: number) => {
        let state = seed * 7919 + 17;
        const next = () => (state = Math.imul(state ^ (state >>> 15), 2246822507) + 0x9e3779b9 | 0) >>> 0;
        return Array.from({length: 4200}, () => words[next() % 8]).join(" ");
    };

    test("chat --context-size 32768 holds a 16k-token exchange, and the next one that overflows the window leaves it out", async () => {
        const input = [1, 2].map(message).join("\n") + "\n";
        // f16 as given: this is about the window, and f16 with flash attention evaluates a long prompt fastest.
        const result = await runCli(["chat", "-m", longModel, "--context-size", "32768", "--cache-type-k", "f16", "--cache-type-v", "f16",
            "--temperature", "0", "--max-tokens", "4", "--lines", "--json"],
            {input, timeoutMs: 600_000});
        expect(result.code, result.stderr).toBe(0);
        const turns = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as {tokens: {prompt: number, context: number, contextSize: number}});
        expect(turns).toHaveLength(2);
        expect(turns.every((turn) => turn.tokens.contextSize === 32768)).toBe(true);
        // Past 16k positions, in a context the model's metadata says it was trained for.
        expect(turns[0]!.tokens.context).toBeGreaterThan(16_000);
        // Both exchanges together would not fit (the second turn may still reuse cached tokens by a shift).
        expect(turns[0]!.tokens.context + turns[1]!.tokens.context).toBeGreaterThan(32768);
        // The second turn left the first exchange out (a note on stderr) and fits the window.
        expect(result.stderr).toContain("the oldest 1 exchange was left out");
        expect(turns[1]!.tokens.context).toBeGreaterThan(16_000);
        expect(turns[1]!.tokens.context).toBeLessThan(32768);
    }, 660_000);
});
