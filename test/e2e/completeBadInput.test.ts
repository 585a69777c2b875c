import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {writeCorruptVariants} from "./helpers/corruptGguf.js";
import {runCli, tinyModel} from "./helpers/runCli.js";

let workDir: string;
let files: ReturnType<typeof writeCorruptVariants>;

beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-bad-"));
    files = writeCorruptVariants(tinyModel(), workDir);
});
afterAll(() => fs.rmSync(workDir, {recursive: true, force: true}));

function expectOneCleanError(result: {code: number | null, stdout: string, stderr: string}, pattern: RegExp) {
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toMatch(pattern);
    // One sentence and a hint: never a stack trace or llama.cpp's own abort output.
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(result.stderr).not.toMatch(/\n\s+at |GGML_ASSERT|Aborted|core dumped/);
}

describe("complete refuses bad model files with one sentence and a hint", () => {
    const cases: [keyof ReturnType<typeof writeCorruptVariants>, RegExp][] = [
        ["missing", /not found/],
        ["directory", /is a directory/],
        ["empty", /is empty/],
        ["text", /not a GGUF model file/],
        ["wrongMagic", /not a GGUF model file/],
        ["truncatedHeader", /damaged or truncated GGUF header/],
        ["truncatedData", /is truncated: its tensors need \d+ bytes but the file has \d+/],
        ["absurdTensorCount", /corrupt|damaged/],
        ["absurdOffset", /truncated|corrupt/],
        ["otherArchitecture", /"gemma" model; mixtral runs Mixtral-architecture/]
    ];
    test.each(cases)("%s", async (name, pattern) => {
        const result = await runCli(["complete", "--model", files[name], "Hello"]);
        expectOneCleanError(result, pattern);
        expect(result.stderr).toMatch(/\nhint: /);
    });
});

describe("usage errors exit 2", () => {
    test("a prompt longer than the context is refused before generation", async () => {
        const result = await runCli(["complete", "--model", tinyModel(), "--context-size", "64", "hello ".repeat(600)]);
        expect(result.code).toBe(2);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(/^error: The prompt is \d+ tokens, but only \d+ fit in the \d+-token context\./);
    });

    test("a non-numeric flag value names the flag", async () => {
        const result = await runCli(["complete", "--model", tinyModel(), "--max-tokens", "lots", "hi"]);
        expect(result.code).toBe(2);
        expect(result.stderr).toContain("--max-tokens");
    });

    test("an unknown --gpu value lists the choices", async () => {
        const result = await runCli(["complete", "--model", tinyModel(), "--gpu", "tpu", "hi"]);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/auto.*cuda.*metal.*vulkan.*cpu/);
    });

    test("no prompt on a closed, empty stdin is an empty prompt, not a hang", async () => {
        const result = await runCli(["complete", "--model", tinyModel(), "--max-tokens", "3", "--json"]);
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout).tokens.prompt).toBe(1);
    });
});

test("--help and --version work even when the native binding cannot load", async () => {
    // A loader hook that makes node-llama-cpp unimportable, as on a machine without its binaries.
    const hook = "data:text/javascript," + encodeURIComponent(
        "import {register} from 'node:module';" +
        "register('data:text/javascript,' + encodeURIComponent(\"export async function resolve(s, c, n) { if (s.startsWith('node-llama-cpp')) throw new Error('binding unavailable'); return n(s, c); }\"));"
    );
    const env = {NODE_OPTIONS: `--import=${hook}`};
    const help = await runCli(["--help"], {env});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("complete");
    const completeHelp = await runCli(["complete", "--help"], {env});
    expect(completeHelp.code).toBe(0);
    expect(completeHelp.stdout).toContain("--max-tokens");
    const version = await runCli(["--version"], {env});
    expect(version.code).toBe(0);
    // The first line stays the bare version; the engine's lines follow, saying the binding does not load.
    expect(version.stdout.split("\n")[0]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(version.stdout).toMatch(/^backends: none loads \(node-llama-cpp could not be imported/m);
    // And the hook really does break the engine: a model command fails cleanly.
    const run = await runCli(["complete", "--model", tinyModel(), "hi"], {env});
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
});
