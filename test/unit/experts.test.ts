import {describe, expect, test} from "vitest";
import {InvalidArgumentError} from "commander";
import {checkExpertsUsed, describeExperts} from "../../src/gguf/expertsUsed.js";
import {UsageError} from "../../src/errors.js";
import {parseExperts, parseExpertsList} from "../../src/cli/flags/expertsFlag.js";
import {decodeCeilingTokensPerSecond, planDecode} from "../../src/hardware/planDecode.js";
import {expandInstances, groupByLoad, type BenchParams} from "../../src/bench/expandInstances.js";
import {compareRatio} from "../../src/bench/compareRuns.js";
import type {BenchRow} from "../../src/bench/types.js";

const mixtral = {expertCount: 8, fileUsed: 2};

describe("--experts against the file", () => {
    test("takes 1 to expert_count, and the file's own count without the flag", () => {
        expect(checkExpertsUsed("m.gguf", mixtral, undefined)).toEqual({expertCount: 8, fileUsed: 2, used: 2});
        expect(checkExpertsUsed("m.gguf", mixtral, 1).used).toBe(1);
        expect(checkExpertsUsed("m.gguf", mixtral, 8).used).toBe(8);
    });

    test("refuses 0, 9 and any value on a dense model, naming the file's range", () => {
        expect(() => checkExpertsUsed("/models/m.gguf", mixtral, 9)).toThrow(UsageError);
        expect(() => checkExpertsUsed("/models/m.gguf", mixtral, 9)).toThrow(/^--experts 9 is outside 1–8: m\.gguf has 8 experts\.$/);
        expect(() => checkExpertsUsed("m.gguf", mixtral, 0)).toThrow(UsageError);
        expect(() => checkExpertsUsed("dense.gguf", {expertCount: 0, fileUsed: 0}, 1)).toThrow(/dense\.gguf is dense/);
        // Without the flag a dense file is not this check's business (validation refuses it as not Mixtral).
        expect(checkExpertsUsed("dense.gguf", {expertCount: 0, fileUsed: 0}, undefined).used).toBe(0);
    });

    test("the flag's parsers refuse what is not a whole number from 1", () => {
        expect(parseExperts("3")).toBe(3);
        for (const bad of ["0", "two", "1.5", "-1", ""]) expect(() => parseExperts(bad)).toThrow(InvalidArgumentError);
        expect(parseExpertsList("1,2,4")).toEqual([1, 2, 4]);
        expect(() => parseExpertsList("1,0")).toThrow(/--experts expects comma-separated whole numbers from 1/);
    });

    test("says N, and the file's own count when N differs", () => {
        expect(describeExperts({expertCount: 8, fileUsed: 2, used: 2})).toBe("2 of 8 experts");
        expect(describeExperts({expertCount: 8, fileUsed: 2, used: 1})).toBe("1 of 8 experts (the file's 2)");
    });
});

describe("the plan's decode bytes and ceiling follow N", () => {
    // Q4_K_M of Mixtral 8x7B: 26.4 GB.
    const fileBytes = 26_441_293_824;

    test("on the CPU, 1 expert reads ~56% of 2 experts' bytes, 4 experts ~188%, 8 all the blocks", () => {
        const at = (n: number) => planDecode({fileBytes, gpuLayers: 0}, n).bytesPerToken;
        expect(at(1) / at(2)).toBeCloseTo(0.558, 2);
        expect(at(4) / at(2)).toBeCloseTo(1.884, 2);
        // 8 of 8 reads every weight but the input embeddings' other rows.
        expect(at(8) / fileBytes).toBeGreaterThan(0.99);
        expect(at(8)).toBeLessThan(fileBytes);
        // 12.7 B of the 46.7 B parameters at 2 experts.
        expect(at(2) / fileBytes).toBeCloseTo(12.75 / 46.70, 2);
    });

    test("splits the bytes like the offload, and the ceiling adds the two sides' times", () => {
        const decode = planDecode({fileBytes, gpuLayers: 16}, 2);
        expect(decode.gpuBytesPerToken + decode.ramBytesPerToken).toBeCloseTo(decode.bytesPerToken, 0);
        expect(decode.gpuBytesPerToken).toBeGreaterThan(0);
        const ceiling = decodeCeilingTokensPerSecond(decode, {gpuGBs: 1000, ramGBs: 50})!;
        expect(ceiling).toBeCloseTo(1 / (decode.gpuBytesPerToken / 1000e9 + decode.ramBytesPerToken / 50e9), 6);
        expect(decodeCeilingTokensPerSecond(decode, {})).toBeUndefined();
        const cpu = planDecode({fileBytes, gpuLayers: 0}, 1);
        expect(decodeCeilingTokensPerSecond(cpu, {ramGBs: 100})).toBeCloseTo(100e9 / cpu.bytesPerToken, 6);
    });
});

describe("bench --experts lists", () => {
    const params: BenchParams = {
        models: ["a.gguf"], experts: [1, 2], nPrompt: [0], nGen: [16], promptGen: [], nDepth: [0], threads: [2],
        gpuLayers: [0], batchSize: 512, typeK: ["f16"], typeV: ["f16"], flashAttention: ["auto"]
    };

    test("one test per N, each N its own load", () => {
        const instances = expandInstances(params);
        expect(instances.map((instance) => instance.expertsUsed)).toEqual([1, 2]);
        expect(groupByLoad(instances)).toHaveLength(2);
        const withoutFlag = expandInstances({...params, experts: undefined});
        expect(withoutFlag).toHaveLength(1);
        expect("expertsUsed" in withoutFlag[0]!).toBe(false);
    });

    test("--compare matches a previous row of the same N, or one that does not say (llama-bench's)", () => {
        const row = {model_type: "m", n_prompt: 0, n_gen: 16, n_depth: 0, n_threads: 2, n_gpu_layers: 0, avg_ts: 20, n_expert_used: 1} as BenchRow;
        const previous = (n?: number) => ({model_type: "m", n_prompt: 0, n_gen: 16, n_depth: 0, n_threads: 2, n_gpu_layers: 0, avg_ts: 10, ...(n == null ? {} : {n_expert_used: n})});
        expect(compareRatio(row, [previous(1)])).toBe(2);
        expect(compareRatio(row, [previous(2)])).toBeNull();
        expect(compareRatio(row, [previous()])).toBe(2);
    });
});
