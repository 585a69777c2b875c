import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {runCli} from "./helpers/runCli.js";

// `mixtral doctor` on this machine (real native probe) and on machines described by flags.
let modelsDir: string;
let breakBindingHook: string;
const env = () => ({MIXTRAL_MODELS: modelsDir});

type DoctorJson = {
    simulated: boolean,
    backend: string,
    backends: {backend: string, loaded: boolean, reason?: string}[],
    nativeError: string | null,
    cpu: {model: string, cores: number},
    ram: {totalBytes: number, freeBytes: number},
    gpus: {type: string, name: string, vramTotalBytes: number, vramFreeBytes: number}[],
    modelsDir: string,
    diskFreeBytes: number | null,
    plan: {model: string | null, quant: string | null, fileBytes: number | null, downloaded: boolean, gpuLayers: number,
        totalLayers: number, contextSize: number, placement: string, reason: string,
        publishedQuality: {variant: string, quant: string, ppl: number, q8Ppl: number, source: string, increase: string}[],
        decode: {bytesPerToken: number, ramBandwidthGBs: number | null, ramBandwidthSource: string | null, ceilingTokensPerSecond: number | null} | null},
    load: {oneMinute: number, cores: number, threads: number, shareForModel: number, busy: boolean} | null,
    hints: string[],
    knownLimits: string[]
};

async function doctorJson(args: string[], extraEnv: Record<string, string> = {}) {
    const result = await runCli(["doctor", "--json", ...args], {env: {...env(), ...extraEnv}});
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as DoctorJson;
}

beforeAll(() => {
    modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-doctor-"));
    // An ESM resolve hook that makes `import("node-llama-cpp")` fail, as a missing native package would.
    breakBindingHook = path.join(modelsDir, "break-node-llama-cpp.mjs");
    fs.writeFileSync(breakBindingHook, `import {register} from "node:module";
register("data:text/javascript," + encodeURIComponent(\`export async function resolve(specifier, context, next) {
    if (specifier === "node-llama-cpp") throw new Error("simulated: the native binding is missing");
    return next(specifier, context);
}\`));
`);
});
afterAll(() => fs.rmSync(modelsDir, {recursive: true, force: true}));

describe("doctor on this machine", () => {
    test("--json reports the real probe: the CPU backend loads, cores, RAM, disk and a CPU plan (--gpu auto, as every command takes it)", async () => {
        const report = await doctorJson(["--gpu", "auto"]);
        expect(report.simulated).toBe(false);
        expect(["cuda", "metal", "vulkan", "cpu"]).toContain(report.backend);
        expect(report.backends.find((status) => status.backend === "cpu")?.loaded).toBe(true);
        expect(report.nativeError).toBeNull();
        expect(report.cpu.model.length).toBeGreaterThan(0);
        expect(report.cpu.cores).toBeGreaterThanOrEqual(1);
        expect(report.cpu.cores).toBeLessThanOrEqual(os.availableParallelism());
        expect(report.ram.totalBytes).toBeGreaterThan(0);
        expect(report.ram.freeBytes).toBeLessThanOrEqual(report.ram.totalBytes);
        expect(Array.isArray(report.gpus)).toBe(true);
        expect(report.modelsDir).toBe(modelsDir);
        expect(report.diskFreeBytes).toBeGreaterThan(0);
        expect(report.plan.totalLayers).toBe(33);
        expect(["gpu", "split", "cpu", "none"]).toContain(report.plan.placement);
        expect(report.plan.reason.length).toBeGreaterThan(10);
        if (report.backend === "cpu") expect(report.plan.gpuLayers).toBe(0);
        // The load now, against this machine's cores (Linux keeps a load average).
        expect(report.load).toMatchObject({cores: report.cpu.cores});
        expect(report.load?.oneMinute).toBeGreaterThanOrEqual(0);
        expect(report.hints.some((hint) => hint.startsWith("Other work holds the cores"))).toBe(report.load?.busy);
        // A plan with layers on this CPU gets the roofline from a RAM read test here.
        if (report.plan.placement === "cpu") {
            expect(report.plan.decode).toMatchObject({ramBandwidthSource: "measured"});
            expect(report.plan.decode?.ramBandwidthGBs).toBeGreaterThan(0);
            expect(report.plan.decode?.ceilingTokensPerSecond).toBeCloseTo((report.plan.decode?.ramBandwidthGBs ?? 0) * 1e9 / (report.plan.decode?.bytesPerToken ?? 1), 0);
        }
        if (report.gpus.length === 0) expect(report.knownLimits.join("\n")).not.toContain("--n-cpu-moe");
    });

    test("prints the probe and the plan for humans, without colour codes when piped", async () => {
        const result = await runCli(["doctor"], {env: env()});
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(/^Hardware\n/);
        expect(result.stdout).toMatch(/\n {2}CPU +.+\d+ usable cores/);
        expect(result.stdout).toMatch(/\nPlan\n/);
        expect(result.stdout).toMatch(/\n {2}why +\S/);
        expect(result.stdout).toMatch(/\n {2}load +[\d.]+ over the last minute/);
        expect(result.stdout).toMatch(/\n {2}speed +(at most ~[\d.]+ tok\/s: an estimate|no estimate)/);
        expect(result.stdout).not.toMatch(/\x1b\[/);
    });

    test("a planned file already in the store is reported as downloaded", async () => {
        const report = await doctorJson(["--gpu", "cpu", "--ram", "64GB"]);
        expect(report.plan.downloaded).toBe(false);
        const catalog = JSON.parse(fs.readFileSync(path.resolve("models.json"), "utf8")) as {models: {name: string, file: string}[]};
        const file = catalog.models.find((model) => model.name === report.plan.model)?.file;
        expect(file).toBeDefined();
        fs.writeFileSync(path.join(modelsDir, file ?? ""), "");
        expect((await doctorJson(["--gpu", "cpu", "--ram", "64GB"])).plan.downloaded).toBe(true);
    });

    test("too little disk for the planned file is a hint", async () => {
        const report = await doctorJson(["--gpu", "cuda", "--vram", "24GB"], {MIXTRAL_FREE_BYTES: String(5e9)});
        expect(report.diskFreeBytes).toBe(5e9);
        expect(report.hints.join("\n")).toMatch(/has 5\.00 GB free, too little for Q3_K_M/);
    });

    test("still reports, with a hint, when the native binding cannot be loaded", async () => {
        const result = await runCli(["doctor", "--json"], {env: {...env(), NODE_OPTIONS: `--import=${breakBindingHook}`}});
        expect(result.code).toBe(0);
        expect(result.stderr).not.toMatch(/\n\s+at /);
        const report = JSON.parse(result.stdout) as DoctorJson;
        expect(report.nativeError).toMatch(/simulated: the native binding is missing/);
        expect(report.backend).toBe("cpu");
        expect(report.hints.join("\n")).toMatch(/native binding does not load .*npm ci/);
        expect(report.plan.placement).not.toBe("gpu");
    });
});

describe("doctor for a machine described by flags", () => {
    test("--gpu cuda --vram 24GB --ram 64GB (an RTX 3090/4090 box) plans Q3_K_M fully on the GPU", async () => {
        const report = await doctorJson(["--gpu", "cuda", "--vram", "24GB", "--ram", "64GB"]);
        expect(report.simulated).toBe(true);
        expect(report.backend).toBe("cuda");
        expect(report.gpus).toEqual([expect.objectContaining({type: "cuda", vramTotalBytes: 24 * 1024 ** 3, vramFreeBytes: 24 * 1024 ** 3})]);
        expect(report.ram.totalBytes).toBe(64 * 1024 ** 3);
        expect(report.plan).toMatchObject({model: "instruct:Q3_K_M", quant: "Q3_K_M", gpuLayers: 33, totalLayers: 33, contextSize: 8192, placement: "gpu"});
        expect(report.plan.reason).toMatch(/24 GiB \+ 64 GiB RAM: Q3_K_M \(20\.4 GB\) fully on GPU, 8k context$/);
        // The "3-bit without loss of quality" claim, with the published figures that test it and their sources.
        expect(report.plan.publishedQuality.map((figure) => `${figure.variant} ${figure.increase}`)).toEqual(["base +7.7 %", "base +4.5 %", "instruct +5.8 %"]);
        expect(report.plan.publishedQuality.every((figure) => figure.quant === "Q3_K_M" && figure.source.length > 0)).toBe(true);
        const text = await runCli(["doctor", "--gpu", "cuda", "--vram", "24GB", "--ram", "64GB"], {env: env()});
        expect(text.stdout).toMatch(/quality +instruct Q3_K_M: Wikitext PPL 4\.664 vs Q8_0 4\.409 \(\+5\.8 %\), M2 Max \(llama\.cpp PR 4406\)/);
        expect(text.stdout).toContain("mixtral perplexity");
    });

    test("--gpu vulkan --vram 8GB --ram 64GB splits layers between VRAM and RAM", async () => {
        const report = await doctorJson(["--gpu", "vulkan", "--vram", "8GB", "--ram", "64GB"]);
        expect(report.plan.placement).toBe("split");
        expect(report.plan.gpuLayers).toBeGreaterThan(0);
        expect(report.plan.gpuLayers).toBeLessThan(33);
    });

    test("--gpu metal --ram 64GB (an M2 Max) plans Q6_K in the GPU's share of unified memory (3/4 from 36 GiB)", async () => {
        const report = await doctorJson(["--gpu", "metal", "--ram", "64GB"]);
        expect(report.gpus[0]?.vramTotalBytes).toBe(48 * 1024 ** 3);
        expect(report.plan).toMatchObject({quant: "Q6_K", placement: "gpu"});
        expect(report.plan.reason).toMatch(/64 GiB unified \(47 GiB for the GPU\)/);
    });

    test("--gpu metal --ram 32GB (an M1 Max) gives the GPU at most 2/3 of its memory, as macOS does, and plans within it", async () => {
        const report = await doctorJson(["--gpu", "metal", "--ram", "32GB"]);
        const share = report.gpus[0]?.vramTotalBytes ?? Infinity;
        expect(share).toBeLessThanOrEqual(32 * 1024 ** 3 * 2 / 3);
        const memory = (report.plan as unknown as {memory: {gpuNeedBytes: number, gpuBudgetBytes: number}}).memory;
        expect(memory.gpuBudgetBytes).toBeLessThanOrEqual(share);
        expect(memory.gpuNeedBytes).toBeLessThanOrEqual(memory.gpuBudgetBytes);
        expect(report.plan.placement).not.toBe("none");
    });

    test("--gpu cpu --ram 16GB says nothing fits and what is missing", async () => {
        const report = await doctorJson(["--gpu", "cpu", "--ram", "16GB"]);
        expect(report.plan).toMatchObject({model: null, quant: null, placement: "none"});
        expect(report.plan.reason).toMatch(/nothing fits; the smallest, Q3_K_M \(20\.4 GB\), needs [\d.]+ GiB more RAM/);
    });

    test("--quant and --context-size override the plan", async () => {
        const report = await doctorJson(["--gpu", "cuda", "--vram", "24GB", "--ram", "64GB", "--quant", "Q8_0", "--context-size", "4096"]);
        expect(report.plan).toMatchObject({quant: "Q8_0", contextSize: 4096, placement: "split"});
        expect(report.plan.reason).toContain("(--quant Q8_0, --context-size 4096)");
    });

    test.each([
        [["--vram", "24GB"], /--vram needs a GPU type/],
        [["--gpu", "cuda", "--vram", "lots"], /--vram lots is not a size/],
        [["--gpu", "tpu"], /argument 'tpu' is invalid/]
    ])("bad flags %j are a usage error with one sentence", async (args, message) => {
        const result = await runCli(["doctor", ...args], {env: env()});
        expect(result.code).toBe(2);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(message);
        expect(result.stderr).not.toMatch(/\n\s+at /);
    });
});
