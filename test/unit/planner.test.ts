import {describe, expect, test} from "vitest";
import {GiB} from "../../src/hardware/byteSizes.js";
import {planPlacement, type Placement} from "../../src/hardware/planPlacement.js";
import {catalog, machines} from "./plannerFixtures.js";

type Row = {machine: keyof typeof machines, placement: Placement, quant: string | null, gpuLayers: number, reason: RegExp};

// The policy, machine by machine: best quality fully on the GPU, else the best split, else the CPU
// with headroom, else "none" with what is missing.
const table: Row[] = [
    {machine: "rtx3090", placement: "gpu", quant: "Q3_K_M", gpuLayers: 33, reason: /^RTX 3090 24 GiB \+ 64 GiB RAM: Q3_K_M \(20\.4 GB\) fully on GPU, 8k context$/},
    {machine: "rtx4090", placement: "gpu", quant: "Q3_K_M", gpuLayers: 33, reason: /^RTX 4090 24 GiB .*Q3_K_M \(20\.4 GB\) fully on GPU, 8k context$/},
    {machine: "gpu8GiB", placement: "split", quant: "Q5_K_M", gpuLayers: 7, reason: /^RTX 4060 8 GiB \+ 64 GiB RAM: Q5_K_M \(32\.2 GB\) with 7 of 33 layers on GPU \(no quant fits entirely in VRAM\), q8_0 KV cache \(1 more layer on the GPU than with f16; it needs flash attention\), 8k context$/},
    {machine: "m1Max32", placement: "gpu", quant: "Q3_K_M", gpuLayers: 33, reason: /^Apple M1 Max 32 GiB unified \(20\.3 GiB for the GPU\): Q3_K_M .*fully on GPU, q8_0 KV cache/},
    {machine: "m2Max64", placement: "gpu", quant: "Q6_K", gpuLayers: 33, reason: /^Apple M2 Max 64 GiB unified .*Q6_K \(38\.4 GB\) fully on GPU/},
    {machine: "m2Ultra192", placement: "gpu", quant: "Q8_0", gpuLayers: 33, reason: /^Apple M2 Ultra 192 GiB unified .*Q8_0 \(49\.6 GB\) fully on GPU/},
    {machine: "cpu16", placement: "none", quant: null, gpuLayers: 0, reason: /^CPU only, 16 GiB RAM: nothing fits; the smallest, Q3_K_M \(20\.4 GB\), needs 5\.7 GiB more RAM with a q8_0 KV cache at 8k context$/},
    {machine: "cpu64", placement: "cpu", quant: "Q5_K_M", gpuLayers: 0, reason: /^CPU only, 64 GiB RAM: Q5_K_M \(32\.2 GB\) on the CPU, 8k context$/},
    {machine: "thisMachine", placement: "cpu", quant: "Q3_K_M", gpuLayers: 0, reason: /^CPU only, 23\.5 GiB RAM: Q3_K_M \(20\.4 GB\) on the CPU, 8k context$/},
    {machine: "dualRtx3090", placement: "gpu", quant: "Q6_K", gpuLayers: 33, reason: /^2× RTX 3090 48 GiB \+ 128 GiB RAM: Q6_K/}
];

describe("the plan for each machine", () => {
    test.each(table)("$machine: $quant, placement $placement, $gpuLayers GPU layers", (row) => {
        const plan = planPlacement({hardware: machines[row.machine], catalog});
        expect(plan.placement).toBe(row.placement);
        expect(plan.quant).toBe(row.quant);
        expect(plan.model).toBe(row.quant == null ? null : `instruct:${row.quant}`);
        expect(plan.gpuLayers).toBe(row.gpuLayers);
        expect(plan.totalLayers).toBe(33);
        expect(plan.contextSize).toBe(8192);
        expect(plan.reason).toMatch(row.reason);
    });
});

describe("the plan's memory arithmetic", () => {
    test("a plan never needs more than its budget on either side", () => {
        for (const hardware of Object.values(machines)) {
            const plan = planPlacement({hardware, catalog});
            if (plan.placement === "none") continue;
            expect(plan.memory.gpuNeedBytes).toBeLessThanOrEqual(plan.memory.gpuBudgetBytes);
            expect(plan.memory.ramNeedBytes).toBeLessThanOrEqual(plan.memory.ramBudgetBytes);
        }
    });

    test("a fully offloaded Q3_K_M at 8k context needs its weights plus 1 GiB of f16 KV cache plus scratch on the GPU", () => {
        const plan = planPlacement({hardware: machines.rtx3090, catalog});
        const kvCache = 8192 * 128 * 1024;
        expect(kvCache).toBe(1 * GiB);
        // Weights minus the input embeddings (they stay in RAM), KV cache, and under 1 GiB of scratch.
        expect(plan.memory.gpuNeedBytes).toBeGreaterThan(20_360_000_000 - 100_000_000 + kvCache);
        expect(plan.memory.gpuNeedBytes).toBeLessThan(20_360_000_000 + kvCache + GiB);
    });

    test("at 32k an f16 cache (4 GiB) no longer fits beside Q3_K_M on a 24 GiB GPU, so the plan keeps it all there with a q8_0 cache (2.1 GiB)", () => {
        const plan = planPlacement({hardware: machines.rtx3090, catalog, contextSize: 32768});
        expect(plan.contextSize).toBe(32768);
        expect(plan).toMatchObject({placement: "gpu", quant: "Q3_K_M", gpuLayers: 33, kvCacheType: "q8_0", kvCacheTypeK: "q8_0", kvCacheTypeV: "q8_0", flashAttention: "on"});
        expect(plan.kvBytesPerToken).toBe(32 * 2 * 1024 * 34 / 32);
        expect(plan.memory.kvCacheBytes).toBe(32768 * 32 * 2 * 1024 * 34 / 32);
        expect(plan.memory.gpuNeedBytes).toBeLessThanOrEqual(plan.memory.gpuBudgetBytes);
        expect(plan.reason).toBe("RTX 3090 24 GiB + 64 GiB RAM: Q3_K_M (20.4 GB) fully on GPU, q8_0 KV cache (with f16 no quant fits entirely in VRAM; " +
            "it needs flash attention), 32k context (--context-size 32768)");
    });

    test("with flash attention off (no quantized V cache) the same 32k plan falls back to a split with f16", () => {
        const plan = planPlacement({hardware: machines.rtx3090, catalog, contextSize: 32768, flashAttention: "off"});
        expect(plan).toMatchObject({placement: "split", kvCacheType: "f16", flashAttention: "off"});
        expect(plan.gpuLayers).toBeGreaterThan(0);
        expect(plan.gpuLayers).toBeLessThan(33);
    });

    test("a GPU with less free VRAM than total plans from the free VRAM", () => {
        const busy = {...machines.rtx3090, gpus: machines.rtx3090.gpus.map((gpu) => ({...gpu, vramFreeBytes: 12 * GiB}))};
        const plan = planPlacement({hardware: busy, catalog});
        expect(plan.placement).toBe("split");
    });

    test("where f16 fits as well, the plan keeps the f16 KV cache and node-llama-cpp's automatic flash attention", () => {
        const plan = planPlacement({hardware: machines.m2Max64, catalog});
        expect(plan).toMatchObject({kvCacheType: "f16", flashAttention: "auto", kvBytesPerToken: 128 * 1024});
        expect(plan.memory.kvCacheBytes).toBe(GiB);
    });

    test("a 32 GiB Mac at 16k fits Q3_K_M and its q8_0 cache inside macOS's GPU share (2/3 of unified memory, less 1 GiB)", () => {
        const plan = planPlacement({hardware: machines.m1Max32, catalog, contextSize: 16384});
        expect(plan).toMatchObject({placement: "gpu", quant: "Q3_K_M", kvCacheType: "q8_0"});
        expect(plan.memory.gpuBudgetBytes).toBe(Math.floor(32 * GiB * 2 / 3) - GiB);
        expect(plan.memory.gpuNeedBytes).toBeLessThanOrEqual(plan.memory.gpuBudgetBytes);
        expect(plan.memory.gpuNeedBytes + plan.memory.ramNeedBytes).toBeLessThanOrEqual(plan.memory.ramBudgetBytes);
    });
});

describe("user overrides win over the plan", () => {
    test("--quant picks that quant even where a better one would fit", () => {
        const plan = planPlacement({hardware: machines.m2Ultra192, catalog, quant: "q4_k_m"});
        expect(plan.quant).toBe("Q4_K_M");
        expect(plan.placement).toBe("gpu");
        expect(plan.reason).toContain("(--quant q4_k_m)");
    });

    test("--quant of a quant below the recommended range is honoured", () => {
        const plan = planPlacement({hardware: machines.cpu64, catalog, quant: "Q2_K"});
        expect(plan.quant).toBe("Q2_K");
        expect(plan.placement).toBe("cpu");
    });

    test("--quant that does not fit in VRAM is split instead of replaced", () => {
        const plan = planPlacement({hardware: machines.rtx3090, catalog, quant: "Q8_0"});
        expect(plan.quant).toBe("Q8_0");
        expect(plan.placement).toBe("split");
    });

    test("--quant the catalog does not have is reported, not guessed", () => {
        const plan = planPlacement({hardware: machines.rtx3090, catalog, quant: "Q9_X"});
        expect(plan.placement).toBe("none");
        expect(plan.model).toBeNull();
        expect(plan.reason).toContain("the catalog has no instruct:Q9_X");
    });

    test("--gpu-layers fixes the split and the quant follows what fits with it", () => {
        const plan = planPlacement({hardware: machines.rtx3090, catalog, gpuLayers: 10});
        expect(plan.gpuLayers).toBe(10);
        expect(plan.placement).toBe("split");
        // A CPU-heavy plan stops at the quality ceiling.
        expect(plan.quant).toBe("Q5_K_M");
        expect(plan.reason).toContain("--gpu-layers 10");
    });

    test("--gpu-layers 0 on a GPU machine plans for the CPU", () => {
        const plan = planPlacement({hardware: machines.rtx3090, catalog, gpuLayers: 0});
        expect(plan.placement).toBe("cpu");
        expect(plan.memory.gpuNeedBytes).toBe(0);
    });

    test("--gpu-layers max on a small GPU says what is missing instead of overcommitting VRAM", () => {
        const plan = planPlacement({hardware: machines.gpu8GiB, catalog, gpuLayers: "max"});
        expect(plan.placement).toBe("none");
        expect(plan.reason).toMatch(/nothing fits; the smallest, Q3_K_M \(20\.4 GB\), needs [\d.]+ GiB more VRAM/);
    });

    test("a smaller --context-size leaves room for more GPU layers", () => {
        const at32k = planPlacement({hardware: machines.gpu8GiB, catalog, contextSize: 32768});
        const at2k = planPlacement({hardware: machines.gpu8GiB, catalog, contextSize: 2048});
        expect(at2k.contextSize).toBe(2048);
        expect(at2k.reason).toContain("2k context");
        expect(at2k.gpuLayers).toBeGreaterThan(at32k.gpuLayers);
    });

    test("--cache-type-k/-v fix the cache: q4_0 is planned only when asked for, and its bytes are counted", () => {
        const plan = planPlacement({hardware: machines.rtx3090, catalog, contextSize: 32768, cacheTypeK: "q4_0", cacheTypeV: "q4_0"});
        expect(plan).toMatchObject({placement: "gpu", kvCacheType: "q4_0", flashAttention: "on", kvBytesPerToken: 32 * 2 * 1024 * 18 / 32});
        expect(plan.reason).toContain("--cache-type-k q4_0, --cache-type-v q4_0");
        const mixed = planPlacement({hardware: machines.rtx3090, catalog, cacheTypeK: "q8_0"});
        expect(mixed).toMatchObject({kvCacheType: "q8_0/f16", kvCacheTypeK: "q8_0", kvCacheTypeV: "f16", flashAttention: "auto"});
    });

    test("the base variant is planned from the base files", () => {
        const plan = planPlacement({hardware: machines.rtx3090, catalog, variant: "base"});
        expect(plan.model).toBe("base:Q3_K_M");
    });
});

type SeedRow = {machine: keyof typeof machines, context: number, quant: string | null, gpuLayers: number, kv: string};

// The seed's machines at 8k, 16k and 32k. The cache is q8_0 only where it buys a faster placement:
// the whole model on the GPU (24 GiB cards at 32k, the 32 GiB Mac at 8k and 16k), more layers on the GPU of a
// split, or any fit at all (24 GiB of RAM at 16k and 32k).
const seedTable: SeedRow[] = [
    {machine: "rtx3090", context: 8192, quant: "Q3_K_M", gpuLayers: 33, kv: "f16"},
    {machine: "rtx4090", context: 8192, quant: "Q3_K_M", gpuLayers: 33, kv: "f16"},
    {machine: "gpu8GiB", context: 8192, quant: "Q5_K_M", gpuLayers: 7, kv: "q8_0"},
    {machine: "m1Max32", context: 8192, quant: "Q3_K_M", gpuLayers: 33, kv: "q8_0"},
    {machine: "m2Max64", context: 8192, quant: "Q6_K", gpuLayers: 33, kv: "f16"},
    {machine: "m2Ultra192", context: 8192, quant: "Q8_0", gpuLayers: 33, kv: "f16"},
    {machine: "cpu64", context: 8192, quant: "Q5_K_M", gpuLayers: 0, kv: "f16"},
    {machine: "cpu24", context: 8192, quant: "Q3_K_M", gpuLayers: 0, kv: "f16"},
    {machine: "cpu16", context: 8192, quant: null, gpuLayers: 0, kv: "q8_0"},
    {machine: "rtx3090", context: 16384, quant: "Q3_K_M", gpuLayers: 33, kv: "f16"},
    {machine: "rtx4090", context: 16384, quant: "Q3_K_M", gpuLayers: 33, kv: "f16"},
    {machine: "gpu8GiB", context: 16384, quant: "Q5_K_M", gpuLayers: 6, kv: "q8_0"},
    {machine: "m1Max32", context: 16384, quant: "Q3_K_M", gpuLayers: 33, kv: "q8_0"},
    {machine: "m2Max64", context: 16384, quant: "Q6_K", gpuLayers: 33, kv: "f16"},
    {machine: "m2Ultra192", context: 16384, quant: "Q8_0", gpuLayers: 33, kv: "f16"},
    {machine: "cpu64", context: 16384, quant: "Q5_K_M", gpuLayers: 0, kv: "f16"},
    {machine: "cpu24", context: 16384, quant: "Q3_K_M", gpuLayers: 0, kv: "q8_0"},
    {machine: "cpu16", context: 16384, quant: null, gpuLayers: 0, kv: "q8_0"},
    {machine: "rtx3090", context: 32768, quant: "Q3_K_M", gpuLayers: 33, kv: "q8_0"},
    {machine: "rtx4090", context: 32768, quant: "Q3_K_M", gpuLayers: 33, kv: "q8_0"},
    {machine: "gpu8GiB", context: 32768, quant: "Q5_K_M", gpuLayers: 6, kv: "q8_0"},
    {machine: "m1Max32", context: 32768, quant: "Q4_0", gpuLayers: 24, kv: "q8_0"},
    {machine: "m2Max64", context: 32768, quant: "Q6_K", gpuLayers: 33, kv: "f16"},
    {machine: "m2Ultra192", context: 32768, quant: "Q8_0", gpuLayers: 33, kv: "f16"},
    {machine: "cpu64", context: 32768, quant: "Q5_K_M", gpuLayers: 0, kv: "f16"},
    {machine: "cpu24", context: 32768, quant: "Q3_K_M", gpuLayers: 0, kv: "q8_0"},
    {machine: "cpu16", context: 32768, quant: null, gpuLayers: 0, kv: "q8_0"}
];

describe("the seed's machines at 8k, 16k and 32k context", () => {
    test.each(seedTable)("$machine at $context: $quant, $gpuLayers GPU layers, $kv KV cache", (row) => {
        const plan = planPlacement({hardware: machines[row.machine], catalog, contextSize: row.context});
        expect(plan.quant).toBe(row.quant);
        expect(plan.gpuLayers).toBe(row.gpuLayers);
        expect(plan.kvCacheType).toBe(row.kv);
        // A quantized V cache is only ever planned with flash attention on (llama.cpp refuses it otherwise).
        expect(plan.flashAttention).toBe(row.kv === "f16" ? "auto" : "on");
        expect(plan.memory.kvCacheBytes).toBe(plan.kvBytesPerToken * row.context);
        if (plan.placement !== "none") {
            expect(plan.memory.gpuNeedBytes).toBeLessThanOrEqual(plan.memory.gpuBudgetBytes);
            expect(plan.memory.ramNeedBytes).toBeLessThanOrEqual(plan.memory.ramBudgetBytes);
        }
        if (row.kv !== "f16" && plan.placement !== "none") expect(plan.reason).toMatch(/, q8_0 KV cache \(.+; it needs flash attention\)/);
    });

    test("a quantized cache is chosen only when f16 would place the model worse", () => {
        for (const row of seedTable.filter((seed) => seed.kv === "q8_0" && seed.quant != null)) {
            const withF16 = planPlacement({hardware: machines[row.machine], catalog, contextSize: row.context, cacheTypeK: "f16", cacheTypeV: "f16"});
            const better = withF16.placement === "none" || withF16.quant !== row.quant || withF16.gpuLayers < row.gpuLayers;
            expect(better, `${row.machine} at ${row.context}`).toBe(true);
        }
    });
});
