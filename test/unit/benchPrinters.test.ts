import fs from "node:fs";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {describe, expect, it} from "vitest";
import {buildRow, testName} from "../../src/bench/buildRow.js";
import {quantOf} from "../../src/gguf/quantOf.js";
import {createPrinter} from "../../src/bench/printers/createPrinter.js";
import {formatG6, llamaBenchFields} from "../../src/bench/printers/llamaBenchFields.js";
import {bar} from "../../src/bench/printers/tablePrinter.js";
import type {OutputFormat, PrinterOptions} from "../../src/bench/printers/types.js";
import type {BenchInstance, BenchModelInfo, BenchRow, BenchSystemInfo} from "../../src/bench/types.js";

const goldenDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/bench");

const system: BenchSystemInfo = {
    buildCommit: "5b4ebc5", buildNumber: 6123, cpuInfo: "AMD EPYC 7B13", gpuInfo: "", backends: "CPU", nodeLlamaCppVersion: "3.21.1"
};
const model: BenchModelInfo = {
    filename: "models/mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf", typeDescription: "llama 8x7B Q4_K - Medium",
    size: 26_441_293_824, parameters: 46_702_792_704, gpuLayers: 0, layerCount: 32, expertUsedCount: 2
};
const base: BenchInstance = {
    model: model.filename, nPrompt: 0, nGen: 0, nDepth: 0, threads: 16, gpuLayers: 0, batchSize: 512, typeK: "f16", typeV: "f16", flashAttention: "off"
};
const testTime = new Date("2026-11-30T07:00:00.123Z");

function sampleRows(): BenchRow[] {
    const pp = buildRow({...base, nPrompt: 512}, model, system, {samplesNs: [10_240_000_000, 10_000_000_000, 9_760_000_000]}, {testTime});
    // The tg row had one collapsed repetition (48 s) that was run again.
    const tg = buildRow({...base, nGen: 128}, model, system,
        {samplesNs: [16_000_000_000, 15_800_000_000, 16_200_000_000], rerunSamplesNs: [48_000_000_000]},
        {testTime, bandwidthGBs: 204.8, rooflineTs: 25.6});
    return [pp, tg];
}

const options: PrinterOptions = {
    backends: "CPU", buildCommit: "5b4ebc5", buildNumber: 6123, showThreads: true, showGpuLayers: false, showBatch: false,
    showFlashAttention: false, showRoofline: true, showCompare: false, showE2e: false
};

function print(format: OutputFormat, printerOptions = options, rows = sampleRows()): string {
    const printer = createPrinter(format, printerOptions);
    return printer.header() + rows.map((row) => printer.row(row)).join("") + printer.footer();
}

describe("bench printers", () => {
    for (const [format, file] of [["md", "golden.md"], ["table", "golden.table.txt"], ["csv", "golden.csv"], ["json", "golden.json"], ["jsonl", "golden.jsonl"]] as const)
        it(`prints ${format} exactly as the golden file ${file}`, () => {
            expect(print(format)).toBe(fs.readFileSync(path.join(goldenDir, file), "utf8"));
        });

    it("writes llama-bench's markdown header and row layout when our columns are off", () => {
        const text = print("md", {...options, showRoofline: false});
        const lines = text.split("\n");
        // llama-bench.cpp: "| %*s |" with model -30, size 10, params 10, backend -10, threads 7, test 15, t/s 20.
        expect(lines[0]).toBe("| model                          |       size |     params | backend    | threads |            test |                  t/s |");
        expect(lines[1]).toBe("| ------------------------------ | ---------: | ---------: | ---------- | ------: | --------------: | -------------------: |");
        expect(lines[2]).toBe("| llama 8x7B Q4_K - Medium       |  24.63 GiB |    46.70 B | CPU        |      16 |           pp512 |         51.22 ± 1.23 |");
        expect(lines.at(-2)).toBe("build: 5b4ebc5 (6123)");
    });

    it("writes every llama-bench field, in its order and with its JSON types, then samples, then ours", () => {
        const rows = JSON.parse(print("json")) as Record<string, unknown>[];
        expect(rows).toHaveLength(2);
        const keys = Object.keys(rows[0]!);
        expect(keys.slice(0, llamaBenchFields.length)).toEqual([...llamaBenchFields]);
        expect(keys.slice(llamaBenchFields.length)).toEqual([
            "samples_ns", "samples_ts", "quant", "node_llama_cpp_version", "n_expert_used", "bandwidth_gbs", "roofline_ts", "roofline_pct", "e2e_ttft_ms", "e2e_ts",
            "busy_cores", "rerun_samples_ns", "high_spread"
        ]);
        const tg = rows[1]!;
        expect(tg).toMatchObject({
            cpu_strict: false, no_kv_offload: false, embeddings: false, no_host: false, flash_attn: 0, n_gpu_layers: 0,
            n_prompt: 0, n_gen: 128, model_type: "llama 8x7B Q4_K - Medium", quant: "Q4_K_M", test_time: "2026-11-30T07:00:00Z",
            avg_ns: 16_000_000_000, samples_ns: [16_000_000_000, 15_800_000_000, 16_200_000_000], roofline_ts: 25.6, bandwidth_gbs: 204.8,
            rerun_samples_ns: [48_000_000_000], high_spread: false, n_expert_used: 2
        });
        expect(rows[0]).toMatchObject({rerun_samples_ns: [], high_spread: false});
        expect(tg.avg_ts).toBeCloseTo(8.000834, 5);
        expect(tg.roofline_pct).toBeCloseTo(100 * 8.000834 / 25.6, 3);
        expect(rows[0]!.roofline_ts).toBeNull();
    });

    it("writes one parseable JSON object per line for jsonl, and a header matching every csv row", () => {
        const lines = print("jsonl").trimEnd().split("\n");
        expect(lines.map((line) => (JSON.parse(line) as BenchRow).n_gen)).toEqual([0, 128]);
        const csv = print("csv").trimEnd().split("\n");
        const columns = csv[0]!.split(",");
        expect(columns.slice(0, 3)).toEqual(["build_commit", "build_number", "cpu_info"]);
        for (const line of csv.slice(1)) expect(line.match(/"(?:[^"]|"")*"/g)).toHaveLength(columns.length);
    });

    it("marks a row whose spread stays above 25% of the mean, with a footnote, in every human-readable format", () => {
        // Recorded on the loaded 2-core machine (pp64 of the test model at -t 1), after re-running two repetitions.
        const unsteady = buildRow({...base, nPrompt: 64}, model, system,
            {samplesNs: [1_579_210, 1_310_847, 5_548_273, 1_285_740, 1_184_481], rerunSamplesNs: [3_117_941, 6_599_119]}, {testTime});
        expect(unsteady.high_spread).toBe(true);
        const [steady] = sampleRows();
        for (const format of ["md", "table"] as const) {
            const text = print(format, options, [steady!, unsteady]);
            const lines = text.split("\n");
            expect(lines.find((line) => line.includes("pp512"))).not.toMatch(/ !/);
            expect(lines.find((line) => line.includes("pp64"))).toMatch(/\d ± [\d.]+ ! /);
            expect(text).toContain("! this row's repetitions spread by more than 25% of the mean");
        }
        expect(print("md")).not.toContain("spread by more than");
        const json = JSON.parse(print("json", options, [steady!, unsteady])) as BenchRow[];
        expect(json.map((row) => row.high_spread)).toEqual([false, true]);
        expect(print("csv", options, [unsteady]).trimEnd().split("\n")[1]).toMatch(/,"1"$/);
    });

    it("adds a ratio column and field only when comparing with a previous run", () => {
        const rows = sampleRows();
        rows[0]!.compare_ratio = 1.25;
        rows[1]!.compare_ratio = null;
        const md = print("md", {...options, showCompare: true}, rows);
        expect(md.split("\n")[0]).toContain("vs prev |");
        expect(md).toContain("  1.25x |");
        expect((JSON.parse(print("json", {...options, showCompare: true}, rows)) as BenchRow[]).map((row) => row.compare_ratio)).toEqual([1.25, null]);
        expect(print("json")).not.toContain("compare_ratio");
    });
});

describe("the terminal table's width", () => {
    const widest = (text: string) => Math.max(...text.split("\n").map((line) => [...line].length));
    const tinyModel: BenchModelInfo = {...model, filename: "test/.models/tiny-q8_0.gguf", typeDescription: "llama ?B Q8_0", size: 4_400_000, parameters: 212_010_000};

    it("fits 100 columns where the terminal's width is not known, whatever columns the run shows", () => {
        const unsteady = buildRow({...base, nPrompt: 64}, model, system, {samplesNs: [1_579_210, 1_310_847, 5_548_273, 1_285_740, 1_184_481]}, {testTime});
        const rows = [...sampleRows(), unsteady];
        for (const extra of [{}, {showGpuLayers: true}, {showBatch: true}, {showFlashAttention: true}, {showExperts: true}, {showCompare: true},
            {showGpuLayers: true, showFlashAttention: true, showTypeK: true, showTypeV: true}])
            expect(widest(print("table", {...options, ...extra}, rows)), JSON.stringify(extra)).toBeLessThanOrEqual(100);
        // The header is not split: every title on the first line, the "of roofline" bar title whole.
        expect(print("table").split("\n")[0]).toMatch(/^model +params +threads +test +t\/s +roofline +of roofline$/);
    });

    it("uses a wider terminal for size and backend, and on a narrow one cuts only the model label", () => {
        const wide = print("table", {...options, maxWidth: 140});
        expect(wide.split("\n")[0]).toMatch(/^model +size +params +backend +threads +test/);
        expect(widest(wide)).toBeLessThanOrEqual(140);
        expect(wide).not.toContain("backend: CPU");
        const narrow = print("table", {...options, maxWidth: 80, testWidth: 5});
        expect(widest(narrow)).toBeLessThanOrEqual(80);
        expect(narrow).toMatch(/\nllama 8x7B Q4_K_M +16 +tg128 +8\.00 ± 0\.10 +25\.60 +31%\n/);
        // The backend column gone, the footer says it once.
        expect(narrow).toContain("backend: CPU · build: 5b4ebc5 (6123)");
        const narrower = print("table", {...options, maxWidth: 68, testWidth: 5});
        expect(widest(narrower)).toBeLessThanOrEqual(68);
        expect(narrower).toMatch(/\nllama 8x7B … +16 +tg128 +8\.00 ± 0\.10 /);
    });

    it("names the model by its quant as files do, and one llama.cpp calls ?B by its parameter count, in the table and in markdown", () => {
        expect(print("table")).toContain("\nllama 8x7B Q4_K_M ");
        const row = buildRow({...base, model: tinyModel.filename, nGen: 8}, tinyModel, system, {samplesNs: [1e7, 1e7]}, {testTime});
        expect(print("table", options, [row])).toMatch(/\nllama 212M Q8_0 /);
        expect(print("md", options, [row])).toContain("| llama 212M Q8_0 ");
        // The machine formats keep llama.cpp's description: --compare and compare-llama-bench.py join on it.
        expect((JSON.parse(print("json", options, [row])) as BenchRow[])[0]!.model_type).toBe("llama ?B Q8_0");
    });
});

describe("bench formatting helpers", () => {
    it("names tests as llama-bench does", () => {
        expect(testName({n_prompt: 512, n_gen: 0, n_depth: 0})).toBe("pp512");
        expect(testName({n_prompt: 0, n_gen: 128, n_depth: 0})).toBe("tg128");
        expect(testName({n_prompt: 512, n_gen: 128, n_depth: 4096})).toBe("pp512+tg128 @ d4096");
    });

    it("turns llama.cpp's model description into the quant name of the file", () => {
        expect(quantOf("llama 8x7B Q4_K - Medium")).toBe("Q4_K_M");
        expect(quantOf("llama 8x7B Q3_K - Small")).toBe("Q3_K_S");
        expect(quantOf("llama ?B Q8_0")).toBe("Q8_0");
    });

    it("prints samples_ts as C++ streams do (6 significant digits)", () => {
        expect(formatG6(6863.1)).toBe("6863.1");
        expect(formatG6(7147.5512)).toBe("7147.55");
        expect(formatG6(51.2)).toBe("51.2");
        expect(formatG6(1234567)).toBe("1.23457e+06");
        expect(formatG6(0.00001234)).toBe("1.234e-05");
    });

    it("draws the roofline bar in eighths of a cell, clamped to its width", () => {
        expect(bar(0.5)).toBe("█████     ");
        expect(bar(0.05)).toBe("▌         ");
        expect(bar(0.0625)).toBe("▋         ");
        expect(bar(1.7)).toBe("██████████");
        expect(bar(0)).toBe("          ");
    });
});
