import {describe, expect, it} from "vitest";
import {createServingPrinter} from "../../src/bench/printers/servingPrinters.js";
import {percentile, servingRow} from "../../src/bench/serving/servingMetrics.js";
import {randomPrompts} from "../../src/bench/serving/randomPrompts.js";
import type {RequestSample} from "../../src/bench/serving/types.js";

const sample = (ttftMs: number, latencyMs: number, outputTokens: number, itlMs: number[]): RequestSample =>
    ({ok: true, promptTokens: 10, outputTokens, ttftMs, latencyMs, itlMs});

describe("serving benchmark metrics", () => {
    it("computes percentiles as numpy.percentile does (linear interpolation)", () => {
        // numpy.percentile([1, 2, 3, 4], [50, 99]) == [2.5, 3.97]
        expect(percentile([4, 1, 3, 2], 50)).toBeCloseTo(2.5, 10);
        expect(percentile([4, 1, 3, 2], 99)).toBeCloseTo(3.97, 10);
        expect(percentile([7], 99)).toBe(7);
        expect(percentile([], 50)).toBe(0);
    });

    it("counts throughput over the wall time and latencies over completed requests, as vLLM's calculate_metrics", () => {
        const failed: RequestSample = {ok: false, error: "refused", promptTokens: 0, outputTokens: 0, ttftMs: 0, latencyMs: 0, itlMs: []};
        const row = servingRow(
            {endpoint: "http://x/v1", model: "m", concurrency: 2, inputLen: 8, outputLen: 5, testTime: new Date("2026-12-02T15:00:00.500Z")},
            [sample(100, 500, 5, [100, 100, 100, 100]), sample(200, 1000, 5, [200, 200, 200, 200]), failed],
            2
        );
        expect(row).toMatchObject({
            num_prompts: 3, completed: 2, failed: 1, total_input_tokens: 20, total_output_tokens: 10,
            request_throughput: 1, output_throughput: 5, total_token_throughput: 15,
            mean_ttft_ms: 150, median_ttft_ms: 150, mean_tpot_ms: 150, median_itl_ms: 150, mean_e2el_ms: 750,
            test_time: "2026-12-02T15:00:00Z"
        });
        expect(row.p99_ttft_ms).toBeCloseTo(199, 6);
        expect(row.p99_itl_ms).toBe(200);
    });

    it("makes different prompts of the asked length, the same for the same seed", () => {
        const prompts = randomPrompts(3, 16, 1);
        expect(new Set(prompts).size).toBe(3);
        expect(prompts[0]!.split(" ")).toHaveLength(16);
        expect(randomPrompts(3, 16, 1)).toEqual(prompts);
        expect(randomPrompts(3, 16, 2)[0]).not.toBe(prompts[0]);
    });

    it("prints every format with one row a level", () => {
        const row = servingRow({endpoint: "http://x/v1", model: "tiny", concurrency: 4, inputLen: 8, outputLen: 5, testTime: new Date()}, [sample(10, 50, 5, [10, 10, 10, 10])], 1);
        const print = (format: "md" | "table" | "csv" | "json" | "jsonl") => {
            const printer = createServingPrinter(format, {endpoint: "http://x/v1"});
            return printer.header() + printer.row(row) + printer.row({...row, concurrency: 8}) + printer.footer();
        };
        const md = print("md").split("\n");
        expect(md[0]).toMatch(/^\| model +\| conc \| requests \|.*\| out tok\/s \| ttft med ms \| ttft p99 ms \| itl med ms \| itl p99 ms \|/);
        expect(md[2]).toMatch(/^\| tiny +\| +4 \| +1 \|/);
        const json = JSON.parse(print("json")) as {concurrency: number}[];
        expect(json.map((entry) => entry.concurrency)).toEqual([4, 8]);
        const lines = print("jsonl").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(lines[1]).toEqual({...row, concurrency: 8});
        const csv = print("csv").trimEnd().split("\n");
        expect(csv).toHaveLength(3);
        expect(csv[0]!.split(",")).toHaveLength(Object.keys(row).length);
        expect(print("table")).toContain("endpoint: http://x/v1");
    });
});
