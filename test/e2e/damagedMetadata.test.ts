import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {damagedMetadataCases, writeDamagedModel} from "./helpers/damagedMetadata.js";
import {runCli} from "./helpers/runCli.js";

/**
 * End to end, for the values that made llama.cpp abort the process (SIGABRT and a bare GGML_ASSERT
 * line): `mixtral complete` must answer each with one sentence and exit 1. Every damaged value is
 * also checked against the validator directly in test/unit/llamaMetadataValidation.test.ts.
 */
const endToEnd = ["block_count 0", "block_count huge", "expert_count 1", "expert_count missing", "expert_used_count 0",
    "expert_used_count above expert_count", "head_count 0", "head_count_kv 0", "feed_forward_length 0", "rms epsilon NaN",
    "a duplicated vocabulary string", "an empty vocabulary"];

let dir: string;
const files = new Map<string, string>();
beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-metadata-e2e-"));
    for (const name of endToEnd) files.set(name, await writeDamagedModel(dir, damagedMetadataCases.findIndex((damage) => damage.name === name)));
});
afterAll(() => fs.rmSync(dir, {recursive: true, force: true}));

describe("complete refuses metadata llama.cpp would abort on", () => {
    test.each(endToEnd)("%s", async (name) => {
        const result = await runCli(["complete", "--model", files.get(name)!, "--max-tokens", "2", "Hello"]);
        expect(result.signal).toBeNull();
        expect(result.code).toBe(1);
        expect(result.stdout).toBe("");
        const lines = result.stderr.trim().split("\n");
        expect(lines[0]).toMatch(/^error: .* is corrupt: /);
        expect(lines[0]).toMatch(damagedMetadataCases.find((damage) => damage.name === name)!.error);
        expect(lines.length).toBeLessThanOrEqual(2);
        expect(result.stderr).not.toMatch(/GGML_ASSERT|Aborted|core dumped|\n\s+at /);
    });
});
