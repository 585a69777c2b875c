import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {writeDamagedHeaders} from "./helpers/damagedHeaders.js";
import {runCli, tinyModel} from "./helpers/runCli.js";

let workDir: string;
let files: ReturnType<typeof writeDamagedHeaders>;
beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-header-"));
    files = writeDamagedHeaders(tinyModel(), workDir);
});
afterAll(() => fs.rmSync(workDir, {recursive: true, force: true}));

describe("a header that would make a trusting reader loop is judged at once", () => {
    const cases: [keyof ReturnType<typeof writeDamagedHeaders>, RegExp][] = [
        ["dimensionsTwoPow31", /tensor output\.weight claims 2147483648 dimensions/],
        ["dimensionsAllOnes", /tensor output\.weight claims 4294967295 dimensions/],
        ["dimensionsZero", /tensor output\.weight claims 0 dimensions/],
        ["valueBecameArray", /the one after llama\.block_count/],
        ["arrayOfArrays", /tokenizer\.ggml\.scores is an array of arrays/],
        ["unknownValueType", /llama\.block_count has unknown value type 77/]
    ];
    test.each(cases)("%s", async (name, pattern) => {
        // Killed after 20 s: before the pre-scan, node-llama-cpp's reader spun here without end.
        const result = await runCli(["complete", "--model", files[name], "Hello"], {timeoutMs: 20_000});
        expect(result.signal).toBeNull();
        expect(result.code).toBe(1);
        const lines = result.stderr.trim().split("\n");
        expect(lines[0]).toMatch(/^error: .* (is corrupt|has a damaged or truncated GGUF header): /);
        expect(lines[0]).toMatch(pattern);
        expect(lines.length).toBeLessThanOrEqual(2);
    });
});

test("a LoRA adapter with such a header is judged at once too", async () => {
    const result = await runCli(["complete", "--model", tinyModel(), "--lora", files.dimensionsTwoPow31, "Hello"], {timeoutMs: 20_000});
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*is not a GGUF LoRA adapter/);
});
