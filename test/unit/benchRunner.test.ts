import path from "node:path";
import {fileURLToPath} from "node:url";
import {describe, expect, it} from "vitest";
import {compareRatio} from "../../src/bench/compareRuns.js";
import {expandInstances, groupByLoad, type BenchParams} from "../../src/bench/expandInstances.js";
import {measureMemoryBandwidth} from "../../src/bench/measureMemoryBandwidth.js";
import {runBench} from "../../src/bench/runBench.js";
import {busyMachineNote} from "../../src/bench/busyMachineNote.js";
import {renderSvgPlot} from "../../src/bench/svgPlot.js";
import type {BenchEngine, BenchFailure, BenchInstance, BenchRow} from "../../src/bench/types.js";
import {ModelFileError} from "../../src/errors.js";
import {parseGpuLayersList, parseIntegerList, parsePromptGenPairs} from "../../src/cli/flags/benchFlags.js";

const tinyModel = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../.models/tiny-q8_0.gguf");

const params: BenchParams = {
    models: ["a.gguf", "b.gguf"], nPrompt: [128, 0], nGen: [64], promptGen: [[16, 8]], nDepth: [0],
    threads: [1, 2], gpuLayers: [0], batchSize: 512, typeK: ["f16"], typeV: ["f16"], flashAttention: ["auto"]
};

/** A stand-in engine: every run takes 1 ms per token; models named "broken" fail to load. */
function fakeEngine(loaded: string[]): BenchEngine {
    return {
        systemInfo: async () => ({buildCommit: "abc1234", buildNumber: 1, cpuInfo: "cpu", gpuInfo: "", backends: "CPU", nodeLlamaCppVersion: "3.21.1"}),
        gpuDeviceNames: async () => [],
        async loadModel({path: modelPath}) {
            loaded.push(modelPath);
            return {
                info: {filename: modelPath, typeDescription: "llama ?B Q8_0", size: 1000, parameters: 500, gpuLayers: 0, layerCount: 2, expertUsedCount: 2},
                run: async (instance: BenchInstance, options) => {
                    if (instance.nGen === 32) throw new Error("decode failed");
                    const ns = (instance.nPrompt + instance.nGen) * 1e6;
                    return {samplesNs: Array.from({length: options.repetitions}, () => ns)};
                },
                dispose: async () => {}
            };
        }
    };
}

describe("bench instances", () => {
    it("expands lists in llama-bench's order and skips zero-sized tests", () => {
        const names = expandInstances(params).map((i) => `${i.model} t${i.threads} ${i.nPrompt}/${i.nGen}`);
        expect(names).toEqual([
            "a.gguf t1 128/0", "a.gguf t1 0/64", "a.gguf t1 16/8",
            "a.gguf t2 128/0", "a.gguf t2 0/64", "a.gguf t2 16/8",
            "b.gguf t1 128/0", "b.gguf t1 0/64", "b.gguf t1 16/8",
            "b.gguf t2 128/0", "b.gguf t2 0/64", "b.gguf t2 16/8"
        ]);
        expect(groupByLoad(expandInstances(params)).map((group) => group.length)).toEqual([6, 6]);
    });

    it("parses comma lists and rejects anything else with the flag's name", () => {
        expect(parseIntegerList("-p", "128, 512", 0)).toEqual([128, 512]);
        expect(() => parseIntegerList("-t", "2,x", 1)).toThrow(/-t expects comma-separated whole numbers/);
        expect(() => parseIntegerList("-t", "0", 1)).toThrow(/from 1/);
        expect(parseGpuLayersList("0,99,max")).toEqual([0, 99, "max"]);
        expect(parsePromptGenPairs(["512,128"])).toEqual([[512, 128]]);
        expect(() => parsePromptGenPairs(["512"])).toThrow(/--pg expects two numbers/);
    });
});

describe("bench runner", () => {
    it("reports a model that cannot be found and goes on with the others", async () => {
        const loaded: string[] = [];
        const rows: BenchRow[] = [];
        const failures: BenchFailure[] = [];
        const outcome = await runBench({
            engine: fakeEngine(loaded),
            instances: expandInstances({...params, models: ["missing.gguf", "tiny"], threads: [1], promptGen: [], nGen: [64, 32]}),
            resolveModel: async (name) => {
                if (name === "missing.gguf") throw new ModelFileError("Model file not found: missing.gguf", {hint: "Pass a path."});
                return tinyModel;
            },
            repetitions: 3, warmup: true, e2e: false,
            bandwidth: {userGBs: 1, measureCpu: async () => { throw new Error("not expected"); }},
            onRow: (row) => rows.push(row),
            onFailure: (failure) => failures.push(failure)
        });
        expect(loaded).toEqual([tinyModel]);
        expect(failures.map((f) => `${f.instance.model} ${f.instance.nPrompt}/${f.instance.nGen}: ${f.message}`)).toEqual([
            "missing.gguf 128/0: Model file not found: missing.gguf",
            "missing.gguf 0/64: Model file not found: missing.gguf",
            "missing.gguf 0/32: Model file not found: missing.gguf",
            "tiny 0/32: decode failed"
        ]);
        expect(rows.map((row) => [row.n_prompt, row.n_gen, row.samples_ns.length])).toEqual([[128, 0, 3], [0, 64, 3]]);
        expect(outcome.rows).toEqual(rows);
        // 64 tokens in 64 ms: 1000 tok/s; the roofline is 1 GB/s over the tiny file's real bytes per token.
        expect(rows[1]!.avg_ts).toBeCloseTo(1000, 6);
        expect(rows[1]!.roofline_ts).toBeGreaterThan(0);
        expect(rows[1]!.roofline_pct).toBeCloseTo(100 * 1000 / rows[1]!.roofline_ts!, 6);
        expect(rows[0]!.roofline_ts).toBeNull();
    });

    it("records the cores other processes kept busy during each row, and notes a row whose threads had to wait for cores", async () => {
        const rows: BenchRow[] = [];
        // 4 cores, each row 1 s: during the first the cores ran 2 s of which 1 s was ours (1 core someone
        // else's), during the second 4 s of which 0.8 s ours.
        const readings = [
            {wallMs: 0, busyMs: 0, ownMs: 0, cores: 4}, {wallMs: 1000, busyMs: 2000, ownMs: 1000, cores: 4},
            {wallMs: 1000, busyMs: 2000, ownMs: 1000, cores: 4}, {wallMs: 2000, busyMs: 6000, ownMs: 1800, cores: 4}
        ];
        await runBench({
            engine: fakeEngine([]),
            instances: expandInstances({...params, models: ["tiny"], nPrompt: [0], promptGen: [], threads: [2]}).concat(
                expandInstances({...params, models: ["tiny"], nPrompt: [16], nGen: [0], promptGen: [], threads: [2]})),
            resolveModel: async () => tinyModel,
            repetitions: 1, warmup: false, e2e: false,
            bandwidth: {userGBs: 1, measureCpu: async () => 1},
            cpu: {counters: () => readings.shift()!},
            onRow: (row) => rows.push(row),
            onFailure: () => {}
        });
        expect(rows.map((row) => row.busy_cores)).toEqual([1, 3.2]);
        expect(busyMachineNote(rows[0]!, 4)).toBeUndefined();
        expect(busyMachineNote(rows[1]!, 4)).toBe("pp16 t=2: other processes kept 3.2 of the 4 CPU cores busy while it ran, so its threads " +
            "waited for cores: the figure is lower and noisier than on a quiet machine (JSON: busy_cores).");
        expect(busyMachineNote({...rows[1]!, busy_cores: null}, 4)).toBeUndefined();
    });

    it("measures the CPU bandwidth once, only for tg rows, when none is given", async () => {
        let measured = 0;
        const rows: BenchRow[] = [];
        await runBench({
            engine: fakeEngine([]),
            instances: expandInstances({...params, models: ["tiny"], promptGen: []}),
            resolveModel: async () => tinyModel,
            repetitions: 1, warmup: false, e2e: false,
            bandwidth: {measureCpu: async () => { measured++; return 20; }},
            onRow: (row) => rows.push(row),
            onFailure: () => {}
        });
        expect(measured).toBe(1);
        expect(rows.filter((row) => row.bandwidth_gbs === 20).map((row) => row.n_gen)).toEqual([64, 64]);
    });
});

describe("bench comparison and plot", () => {
    const row = (avgTs: number, nGen: number, roofline: number | null): BenchRow => ({
        model_type: "llama ?B Q8_0", model_n_params: 212e6, model_filename: "m/tiny.gguf", quant: "Q8_0", n_prompt: 0, n_gen: nGen, n_depth: 0, n_threads: 2,
        n_gpu_layers: 0, avg_ts: avgTs, stddev_ts: 1, roofline_ts: roofline, roofline_pct: roofline == null ? null : 100 * avgTs / roofline
    } as BenchRow);

    it("divides by the matching previous row and gives null when there is none", () => {
        const previous = [row(40, 64, null), row(60, 64, null), row(10, 128, null)];
        expect(compareRatio(row(75, 64, null), previous)).toBeCloseTo(1.5, 9);
        expect(compareRatio({...row(75, 64, null), n_threads: 4}, previous)).toBeNull();
    });

    it("draws one bar per row and a roofline mark for each tg row that has one", () => {
        const svg = renderSvgPlot([row(50, 64, 100), row(20, 128, null)]);
        expect(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true);
        expect(svg.match(/<rect class="bar"/g)).toHaveLength(2);
        expect(svg.match(/class="roofline"/g)).toHaveLength(1);
        expect(svg).toContain(">tg64</text>");
        expect(svg).toContain(">llama 212M Q8_0 · ");
        expect(svg).toContain("50.0 ± 1.00 t/s · 50% of roofline<");
    });
});

describe("CPU memory bandwidth test", () => {
    it("reports a finite, positive GB/s from worker threads reading RAM", async () => {
        const gbs = await measureMemoryBandwidth({threads: 2, bytesPerThread: 4 * 1024 * 1024, rounds: 2});
        expect(Number.isFinite(gbs)).toBe(true);
        expect(gbs).toBeGreaterThan(0.1);
    });

    it("stops at once when the run is interrupted", async () => {
        const controller = new AbortController();
        controller.abort(new Error("Interrupted"));
        await expect(measureMemoryBandwidth({threads: 1, bytesPerThread: 1024 * 1024, rounds: 1, signal: controller.signal})).rejects.toThrow();
    });
});
