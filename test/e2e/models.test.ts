import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {runCli} from "./helpers/runCli.js";

/** `mixtral models`, `models path` and `models rm` against a temporary store (no network). */
let work: string;
let store: string;
const q4 = "mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf";

beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-models-"));
    store = path.join(work, "store");
    fs.mkdirSync(store);
    fs.writeFileSync(path.join(store, q4), "GGUF-pretend");
});

afterEach(() => {
    fs.rmSync(work, {recursive: true, force: true});
});

const env = () => ({MIXTRAL_MODELS: store, MIXTRAL_CATALOG: undefined as unknown as string, HOME: work});

describe("mixtral models", () => {
    it("lists every catalog model with what is downloaded, as JSON", async () => {
        const result = await runCli(["models", "--json"], {env: env()});
        expect(result.code, result.stderr).toBe(0);
        const list = JSON.parse(result.stdout) as {store: string, models: {name: string, downloaded: boolean, path: string, bytes: number}[]};
        expect(list.store).toBe(store);
        expect(list.models).toHaveLength(16);
        expect(list.models.filter((model) => model.downloaded).map((model) => model.name)).toEqual(["instruct:Q4_K_M"]);
        expect(list.models.find((model) => model.name === "base:Q8_0")).toMatchObject({downloaded: false, path: path.join(store, "mixtral-8x7b-v0.1.Q8_0.gguf")});
    });

    it("prints a table on stdout with sizes, and the store on stderr", async () => {
        const result = await runCli(["models"], {env: env()});
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(/^NAME\s+SIZE\s+BPW\s+STATE\s+PATH$/m);
        expect(result.stdout).toMatch(new RegExp(`^instruct:Q4_K_M\\s+12 B\\s+4\\.53\\s+downloaded\\s+${store.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "m"));
        expect(result.stdout).toMatch(/^base:Q8_0\s+~49\.6 GB\s+8\.50\s+-$/m);
        expect(result.stdout).not.toContain("\u001b[");
        expect(result.stderr).toContain(`store: ${store}`);
    });

    it("shows a partial download as resumable", async () => {
        fs.mkdirSync(path.join(store, ".partial"));
        fs.writeFileSync(path.join(store, ".partial", "mixtral-8x7b-v0.1.Q8_0.gguf.download"), Buffer.alloc(2000));
        const result = await runCli(["models"], {env: env()});
        expect(result.stdout).toMatch(/^base:Q8_0\s+~49\.6 GB\s+8\.50\s+partial \(2\.00 kB; pull resumes\)$/m);
    });

    it("prints the path of a downloaded model for scripts, and fails for one that is not", async () => {
        const found = await runCli(["models", "path", "Q4_K_M"], {env: env()});
        expect(found.code).toBe(0);
        expect(found.stdout).toBe(path.join(store, q4) + "\n");
        const missing = await runCli(["models", "path", "base:Q8_0"], {env: env()});
        expect(missing.code).toBe(1);
        expect(missing.stdout).toBe("");
        expect(missing.stderr).toMatch(/error: base:Q8_0 is not downloaded\.\nhint: Run: mixtral pull base:Q8_0/);
    });

    it("removes a downloaded model and its partial download", async () => {
        fs.mkdirSync(path.join(store, ".partial"));
        fs.writeFileSync(path.join(store, ".partial", q4 + ".download"), "partial");
        const result = await runCli(["models", "rm", "instruct:q4_k_m"], {env: env()});
        expect(result.code, result.stderr).toBe(0);
        expect(fs.existsSync(path.join(store, q4))).toBe(false);
        expect(fs.existsSync(path.join(store, ".partial", q4 + ".download"))).toBe(false);
        const again = await runCli(["models", "rm", "instruct:Q4_K_M"], {env: env()});
        expect(again.code).toBe(1);
        expect(again.stderr).toMatch(/not in the store; nothing removed/);
    });

    it("refuses to remove a model that a running pull is downloading", async () => {
        fs.mkdirSync(path.join(store, ".partial"));
        fs.writeFileSync(path.join(store, ".partial", q4 + ".download"), "partial");
        // The lock a live pull holds: this test process stands in for it.
        fs.writeFileSync(path.join(store, ".partial", q4 + ".lock"), JSON.stringify({pid: process.pid, host: os.hostname()}));
        const result = await runCli(["models", "rm", "instruct:Q4_K_M"], {env: env()});
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/^error: .* is being downloaded right now \(process \d+\); nothing removed\.\nhint: Stop that `mixtral pull` first/);
        expect(fs.existsSync(path.join(store, q4))).toBe(true);
        expect(fs.existsSync(path.join(store, ".partial", q4 + ".download"))).toBe(true);
    });

    it("refuses to remove anything outside the store", async () => {
        const outside = path.join(work, "x.gguf");
        fs.writeFileSync(outside, "keep me");
        for (const argument of ["../x.gguf", outside]) {
            const result = await runCli(["models", "rm", argument], {env: env()});
            expect(result.code).toBe(2);
            expect(result.stderr).toMatch(/error: Refusing to remove .*: it is not a model in the store/);
        }
        expect(fs.readFileSync(outside, "utf8")).toBe("keep me");
    });

    it("answers an unknown name with the closest catalog names", async () => {
        const result = await runCli(["models", "path", "instruct:Q4_K_L"], {env: env()});
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/error: Unknown model "instruct:Q4_K_L"\.\nhint: Did you mean instruct:Q4_K_M/);
    });
});
