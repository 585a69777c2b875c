import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {BenchRow} from "../../src/bench/types.js";
import {runCli, tinyModel} from "./helpers/runCli.js";

// Tiny sizes and one thread: the real engine on the tiny model, fast even on two busy cores.
const quick = ["-p", "16", "-n", "8", "-r", "2", "-t", "1"];

describe("mixtral bench (real engine, tiny model)", () => {
    let dir: string;
    beforeAll(async () => {
        dir = await fs.mkdtemp(path.join(os.tmpdir(), "mixtral-bench-"));
    });
    afterAll(async () => {
        await fs.rm(dir, {recursive: true, force: true});
    });

    it("times pp and tg and writes llama-bench JSON rows with every sample and the roofline", async () => {
        const result = await runCli(["bench", "-m", tinyModel(), ...quick, "--bandwidth", "10", "-o", "json"]);
        expect(result.stderr).not.toMatch(/failed/);
        expect(result.code).toBe(0);
        const rows = JSON.parse(result.stdout) as BenchRow[];
        expect(rows.map((row) => [row.n_prompt, row.n_gen, row.n_threads, row.samples_ns.length, row.samples_ts.length])).toEqual([
            [16, 0, 1, 2, 2],
            [0, 8, 1, 2, 2]
        ]);
        for (const row of rows) {
            expect(row.samples_ns.every((ns) => Number.isInteger(ns) && ns > 0)).toBe(true);
            expect(row.avg_ts).toBeGreaterThan(0);
            expect(row.model_filename).toBe(tinyModel());
            expect(row.model_type).toMatch(/^llama .*Q8_0$/);
            expect(row.quant).toBe("Q8_0");
            expect(row.model_size).toBeGreaterThan(400_000);
            expect(row.node_llama_cpp_version).toBe("3.21.1");
        }
        const [pp, tg] = rows as [BenchRow, BenchRow];
        expect(pp.roofline_ts).toBeNull();
        expect(tg.bandwidth_gbs).toBe(10);
        expect(tg.roofline_ts).toBeGreaterThan(0);
        expect(tg.roofline_pct).toBeCloseTo(100 * tg.avg_ts / tg.roofline_ts!, 2);
        // Progress goes to stderr, one line a test when stderr is not a terminal.
        expect(result.stderr).toMatch(/bench \[1\/2\] tiny-q8_0\.gguf pp16 t=1/);
        expect(result.stderr).toMatch(/bench \[2\/2\] tiny-q8_0\.gguf tg8 t=1/);
    });

    it("prints llama-bench's markdown table when stdout is not a terminal; without -t it says the thread count it chose", async () => {
        const result = await runCli(["bench", "-m", tinyModel(), "-p", "16", "-n", "0", "-r", "1"]);
        expect(result.code).toBe(0);
        // runCli sets MIXTRAL_THREADS=1 (the suite shares two cores); unit/benchThreads.test.ts covers the math cores.
        expect(result.stderr).toContain("threads: 1 (from MIXTRAL_THREADS; -t to change)");
        const lines = result.stdout.split("\n");
        expect(lines[0]).toMatch(/^\| model {26}\| {7}size \| {5}params \| backend {4}\| threads \| {12}test \| {18}t\/s \|$/);
        expect(lines[2]).toMatch(/^\| llama .*\| CPU {8}\| {7}1 \| {12}pp16 \| +\d+\.\d\d ± \d+\.\d\d \|$/);
        expect(result.stdout).toMatch(/\nbuild: \S+ \(\d+\)\n$/);
    });

    it("takes catalog names and paths alike in -m (repeated or comma lists); reports a missing model, measures the others, and exits 1 at the end", async () => {
        // A one-entry catalog publishes the tiny model as instruct:Q8_0, downloaded in a store of its own.
        const store = path.join(dir, "store");
        await fs.mkdir(store, {recursive: true});
        await fs.copyFile(tinyModel(), path.join(store, "tiny-q8_0.gguf"));
        const catalog = path.join(dir, "catalog.json");
        await fs.writeFile(catalog, JSON.stringify({models: [{name: "instruct:Q8_0", variant: "instruct", quant: "Q8_0", repo: "local/tiny",
            file: "tiny-q8_0.gguf", bytes: (await fs.stat(tinyModel())).size, bytesExact: true, bitsPerWeight: 8.5, sha256: null}]}));
        const missing = path.join(dir, "missing.gguf");
        const result = await runCli(["bench", "-m", missing, "-m", `instruct:Q8_0,${tinyModel()}`, "-p", "16", "-n", "0", "-r", "1", "-t", "1", "--no-warmup", "-o", "jsonl"],
            {env: {MIXTRAL_CATALOG: catalog, MIXTRAL_MODELS: store}});
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`failed: missing.gguf pp16 t=1: Model file not found: ${missing}`);
        expect(result.stderr).toContain("1 of 3 tests failed.");
        expect(result.stderr).not.toMatch(/\n\s+at /);
        const rows = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as BenchRow);
        expect(rows.map((row) => [row.model_filename, row.n_prompt])).toEqual([["instruct:Q8_0", 16], [tinyModel(), 16]]);
        // The name and the path are the same file.
        expect(rows[0]?.model_size).toBe(rows[1]?.model_size);
    });

    it("adds each row's ratio to a previous run with --compare, and draws an SVG with --plot", async () => {
        const previous = path.join(dir, "previous.json");
        const first = await runCli(["bench", "-m", tinyModel(), ...quick, "--bandwidth", "10", "-o", "json"]);
        expect(first.code).toBe(0);
        await fs.writeFile(previous, first.stdout);
        const plot = path.join(dir, "plot.svg");
        const second = await runCli(["bench", "-m", tinyModel(), ...quick, "--bandwidth", "10", "-o", "json", "--compare", previous, "--plot", plot]);
        expect(second.code).toBe(0);
        const rows = JSON.parse(second.stdout) as BenchRow[];
        for (const [index, row] of rows.entries())
            expect(row.compare_ratio).toBeCloseTo(row.avg_ts / (JSON.parse(first.stdout) as BenchRow[])[index]!.avg_ts, 3);
        const svg = await fs.readFile(plot, "utf8");
        expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
        // Two panels (pp, tg), each with a tok/s axis; both rows beside their previous run; the tg
        // row's roofline drawn, or named in its label when it lies far beyond the bar.
        expect(svg.match(/>tokens per second \(t\/s\)</g)).toHaveLength(2);
        expect(svg.match(/class="tick"/g)?.length).toBeGreaterThanOrEqual(6);
        expect(svg.match(/<rect class="previous"/g)).toHaveLength(2);
        expect(svg.match(/× previous</g)).toHaveLength(2);
        expect((svg.match(/class="roofline"/g) ?? []).length + (svg.match(/% of roofline \d/g) ?? []).length).toBe(1);
    });

    it("times the user's path too with --mode e2e: time to first token and generated tok/s", async () => {
        const result = await runCli(["bench", "-m", tinyModel(), "-p", "8", "-n", "8", "-r", "1", "-t", "1", "--mode", "e2e", "-o", "jsonl"]);
        expect(result.code).toBe(0);
        const [pp, tg] = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as BenchRow);
        expect(pp?.e2e_ttft_ms).toBeNull();
        expect(tg?.e2e_ttft_ms).toBeGreaterThan(0);
        expect(tg?.e2e_ts).toBeGreaterThanOrEqual(0);
    });

    it("rejects a malformed list with one sentence and exit code 2, before loading anything", async () => {
        const result = await runCli(["bench", "-m", tinyModel(), "-p", "16,abc"]);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/^error: -p expects comma-separated whole numbers from 0 to 1000000; got "16,abc"\.\nhint: /);
        expect(result.stdout).toBe("");
    });
});
