import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {runCli, tinyModel} from "./helpers/runCli.js";

// Without --model, `complete` runs what `doctor` plans. A one-entry catalog publishes the tiny
// fixture as instruct:Q8_0, so the plan picks it and the real engine loads it from the store.
let dir: string;
let env: Record<string, string>;

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-plan-"));
    const store = path.join(dir, "models");
    fs.mkdirSync(store);
    fs.copyFileSync(tinyModel("tiny-q8_0.gguf"), path.join(store, "tiny-q8_0.gguf"));
    const entry = {
        name: "instruct:Q8_0", variant: "instruct", quant: "Q8_0", repo: "local/tiny", file: "tiny-q8_0.gguf",
        bytes: fs.statSync(tinyModel("tiny-q8_0.gguf")).size, bytesExact: true, bitsPerWeight: 8.5, sha256: null
    };
    fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify({models: [entry]}));
    env = {MIXTRAL_CATALOG: path.join(dir, "catalog.json"), MIXTRAL_MODELS: store};
});
afterAll(() => fs.rmSync(dir, {recursive: true, force: true}));

describe("complete without --model", () => {
    test("uses the planned catalog file from the store and prints the plan with --verbose", async () => {
        const result = await runCli(["complete", "--max-tokens", "4", "--temperature", "0", "--gpu", "cpu", "--verbose", "Hello"], {env});
        expect(result.stderr).toMatch(/^plan: CPU only, [\d.]+ GiB RAM: Q8_0 \(\d+ kB\) on the CPU, 8k context; instruct:Q8_0 from the store/m);
        expect(result.code).toBe(0);
    });

    test("doctor plans the same file", async () => {
        const result = await runCli(["doctor", "--json", "--gpu", "cpu", "--ram", "8GB"], {env});
        expect(result.code).toBe(0);
        const report = JSON.parse(result.stdout) as {plan: {model: string, downloaded: boolean, placement: string}};
        expect(report.plan).toMatchObject({model: "instruct:Q8_0", downloaded: true, placement: "cpu"});
    });

    test("a planned file that is not downloaded is refused without consent, naming the pull to run", async () => {
        const result = await runCli(["complete", "--max-tokens", "4", "Hello"], {env: {...env, MIXTRAL_MODELS: path.join(dir, "empty-store")}});
        expect(result.code).toBe(1);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(/^error: instruct:Q8_0 is not downloaded\.\nhint: Run: mixtral pull instruct:Q8_0/);
    });
});
