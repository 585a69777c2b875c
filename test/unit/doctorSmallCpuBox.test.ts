import {describe, expect, test} from "vitest";
import {decodeReportOf, needsRamBandwidthTest} from "../../src/cli/commands/doctor.js";
import {doctorJson, renderDoctor, type DoctorReport} from "../../src/cli/commands/doctorPrinter.js";
import {adviseOnHardware, knownLimits} from "../../src/hardware/adviseOnHardware.js";
import {kvCacheByUse} from "../../src/hardware/kvCacheForUse.js";
import {kvCacheFrom} from "../../src/hardware/kvCacheSettings.js";
import {plannedKvCache} from "../../src/hardware/planDefaultModel.js";
import {mixtral8x7b} from "../../src/hardware/mixtralShape.js";
import {maxTokensDefaults} from "../../src/generator/sampling.js";
import {GiB} from "../../src/hardware/byteSizes.js";
import {loadVerdict, probeLoad, type LoadAverage} from "../../src/hardware/cpuLoad.js";
import {planPlacement} from "../../src/hardware/planPlacement.js";
import {simulateHardware} from "../../src/hardware/simulateHardware.js";
import type {HardwareProbe} from "../../src/hardware/types.js";
import {catalog} from "./plannerFixtures.js";

// `mixtral doctor` on a small CPU box like the one the newcomer tried: 2 cores, 24 GiB, no GPU.
const smallBox: HardwareProbe = {
    source: "probe",
    backend: "cpu",
    backends: [{backend: "cpu", loaded: true}],
    gpus: [],
    cpu: {model: "AMD EPYC", cores: 2, physicalCores: 2, mathCores: 2},
    ram: {totalBytes: 23.5 * GiB, freeBytes: 23 * GiB},
    modelsDir: "/models",
    diskFreeBytes: 100e9,
    nvidiaDriverPresent: false,
    load: {oneMinute: 0.1, fifteenMinutes: 0.2}
};
const facts = {planDownloaded: true, diskMarginBytes: 0};

/** Everything doctor shows for a machine, with the RAM read test's answer given instead of run. */
function reportFor(probe: HardwareProbe, options: {contextSize?: number, measuredRamGBs?: number} = {}): DoctorReport {
    const plan = planPlacement({hardware: probe, catalog, contextSize: options.contextSize});
    const load = probe.load == null ? undefined : loadVerdict(probe.load, probe.cpu.cores, 2);
    const decode = decodeReportOf(plan, probe, {measuredRamGBs: options.measuredRamGBs, load});
    const kvByUse = kvCacheByUse({backend: probe.backend, given: kvCacheFrom({}, plannedKvCache(plan, {})), headSizes: {k: mixtral8x7b.headDim, v: mixtral8x7b.headDim}}, maxTokensDefaults.complete);
    return {probe, plan, kvByUse, planDownloaded: true, hints: adviseOnHardware(probe, plan, {...facts, load}), decode, load, knownLimits: knownLimits(probe, plan)};
}

const busy = (load: LoadAverage): HardwareProbe => ({...smallBox, load});

describe("the speed expectation", () => {
    test("is the roofline of the plan: the measured RAM bandwidth ÷ the bytes a token reads, said to be an estimate", () => {
        const report = reportFor(smallBox, {measuredRamGBs: 20});
        const json = doctorJson(report);
        // Q3_K_M on the CPU reads ~5.56 GB a token: 20 GB/s gives at most 3.6 tok/s.
        expect(json.plan.decode?.ceilingTokensPerSecond).toBeCloseTo(20e9 / 5.5578e9, 1);
        expect(json.plan.decode?.ramBandwidthGBs).toBe(20);
        expect(json.plan.decode?.ramBandwidthSource).toBe("measured");
        const text = renderDoctor(report);
        expect(text).toMatch(/\n {2}speed +at most ~3\.6 tok\/s: an estimate, 20 GB\/s RAM \(a read test just now\) ÷ the bytes a token reads;/);
        expect(text).toContain("`mixtral bench` measures it");
    });

    test("is measured only on this machine with layers on its CPU", () => {
        const cpuPlan = planPlacement({hardware: smallBox, catalog});
        expect(needsRamBandwidthTest(cpuPlan, smallBox)).toBe(true);
        const elsewhere = simulateHardware({gpu: "cpu", ram: "64GB"}, smallBox);
        expect(needsRamBandwidthTest(planPlacement({hardware: elsewhere, catalog}), elsewhere)).toBe(false);
        const onGpu = simulateHardware({gpu: "cuda", vram: "48GB"}, smallBox);
        expect(needsRamBandwidthTest(planPlacement({hardware: {...onGpu, source: "probe"}, catalog}), {...onGpu, source: "probe"})).toBe(false);
    });

    test("a machine whose bandwidth is not known gets no figure, and says why", () => {
        const report = reportFor(simulateHardware({gpu: "cpu", ram: "64GB"}, smallBox));
        expect(doctorJson(report).plan.decode?.ceilingTokensPerSecond).toBeNull();
        expect(renderDoctor(report)).toMatch(/speed +no estimate: that machine's memory bandwidth is not known here/);
    });
});

describe("the current load", () => {
    test("others running beside the model's threads leave it a share of the cores", () => {
        expect(loadVerdict({oneMinute: 4.1, fifteenMinutes: 3}, 2, 2)).toMatchObject({shareForModel: 2 / 6.1, busy: true});
        expect(loadVerdict({oneMinute: 0.3, fifteenMinutes: 0.2}, 2, 2)).toMatchObject({busy: false});
        expect(loadVerdict({oneMinute: 6, fifteenMinutes: 6}, 16, 8).shareForModel).toBe(1);
        expect(probeLoad("win32", () => [0, 0, 0])).toBeUndefined();
        expect(probeLoad("linux", () => [4.1, 3.5, 3])).toEqual({oneMinute: 4.1, fifteenMinutes: 3});
    });

    test("when other work holds the cores, doctor says so, and what it leaves of the speed", () => {
        const report = reportFor(busy({oneMinute: 4.1, fifteenMinutes: 3.2}), {measuredRamGBs: 20});
        const text = renderDoctor(report);
        expect(text).toMatch(/\n {2}load +4\.1 over the last minute \(3\.2 over 15\) on 2 cores: other work holds the cores\n/);
        expect(text).toMatch(/\n {13}~1\.2 tok\/s at most while the current load lasts: it leaves the model's 2 threads about 33 % of the CPU time\n/);
        expect(text).toContain("under load: it may read low");
        expect(report.hints.join("\n")).toMatch(/Other work holds the cores \(load average 4\.1 over the last minute on 2 cores\), so a model's 2 threads would get about 33 % of the CPU time/);
        expect(report.hints.join("\n")).toContain("give it the cores that are free (`--threads 1`)");
        const bigBox = {...smallBox, cpu: {...smallBox.cpu, cores: 16}, load: {oneMinute: 10.5, fifteenMinutes: 9}};
        const verdict = loadVerdict(bigBox.load, 16, 16);
        expect(adviseOnHardware(bigBox, planPlacement({hardware: bigBox, catalog}), {...facts, load: verdict}).join("\n")).toContain("(`--threads 5`)");
        const json = doctorJson(report);
        expect(json.load).toEqual({oneMinute: 4.1, fifteenMinutes: 3.2, cores: 2, threads: 2, shareForModel: 0.33, busy: true});
        expect(json.plan.decode?.underLoadTokensPerSecond).toBeCloseTo(1.2, 1);
    });

    test("a quiet machine gets the load row and no warning", () => {
        const report = reportFor(smallBox, {measuredRamGBs: 20});
        expect(renderDoctor(report)).toMatch(/load +0\.1 over the last minute .*: the cores are free enough/);
        expect(report.hints.join("\n")).not.toMatch(/holds the cores/);
        expect(doctorJson(report).plan.decode?.underLoadTokensPerSecond).toBeNull();
    });
});

describe("what a CPU box is told about memory and limits", () => {
    test("a plan leaving under 1 GiB of the RAM it may use says so", () => {
        // 23.5 GiB: Q3_K_M at 8k needs ~20.7 of the 21.2 GiB usable.
        const tight = reportFor(smallBox);
        expect(tight.hints.join("\n")).toMatch(/The plan leaves only \d+ MiB spare: it needs about 20\.7 GiB of the 21\.2 GiB of RAM it may use/);
        const roomy = reportFor({...smallBox, ram: {totalBytes: 64 * GiB, freeBytes: 60 * GiB}});
        expect(roomy.hints.join("\n")).not.toMatch(/spare/);
    });

    test("no GPU, no MoE-offload note", () => {
        expect(renderDoctor(reportFor(smallBox))).not.toContain("--n-cpu-moe");
        const split = simulateHardware({gpu: "cuda", vram: "8GB", ram: "64GB"}, smallBox);
        expect(knownLimits(split, planPlacement({hardware: split, catalog})).join("\n")).toContain("--n-cpu-moe");
    });

    test("a q8_0 plan at 32k is not told that plans keep the f16 KV cache", () => {
        const box = {...smallBox, ram: {totalBytes: 26 * GiB, freeBytes: 26 * GiB}};
        const report = reportFor(box, {contextSize: 32768});
        expect(report.plan.kvCacheType).toBe("q8_0");
        const text = renderDoctor(report);
        expect(text).toMatch(/context +32768 tokens, q8_0 KV cache/);
        expect(text).not.toMatch(/keep the f16 KV cache/);
        expect(text).toContain("This plan's q8_0 KV cache (68 KiB a token instead of f16's 128 KiB)");
        expect(knownLimits(smallBox, planPlacement({hardware: smallBox, catalog})).join("\n")).toMatch(/the plan sizes memory for f16 \(128 KiB a token\), and a q8_0 cache is used where it fits better or is faster/);
    });
});
