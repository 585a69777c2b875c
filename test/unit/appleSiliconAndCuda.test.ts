import {describe, expect, test} from "vitest";
import type {Llama, LlamaOptions} from "node-llama-cpp";
import {probeBackends} from "../../src/engine/native/probeBackends.js";
import {backendOf, loadLlama} from "../../src/engine/native/loadLlama.js";
import {adviseOnHardware} from "../../src/hardware/adviseOnHardware.js";
import {GiB} from "../../src/hardware/byteSizes.js";
import {threadsFromMathCores, usableCpuCores} from "../../src/hardware/cpuCores.js";
import {metalWorkingSetBytes} from "../../src/hardware/memoryBudget.js";
import {planPlacement} from "../../src/hardware/planPlacement.js";
import {hostMemory, nvidiaDriverPresent} from "../../src/hardware/probeSystem.js";
import {simulateHardware} from "../../src/hardware/simulateHardware.js";
import type {HardwareProbe} from "../../src/hardware/types.js";
import {catalog} from "./plannerFixtures.js";

// The seed's two machines, asked about from Linux: an Apple Silicon Mac (node-llama-cpp ships only
// its Metal build there) and a Windows PC with an RTX 3090.

const appleSilicon = {platform: "darwin" as const, arch: "arm64"};
const linux = {platform: "linux" as const, arch: "x64"};

/** A Llama as node-llama-cpp's getLlama returns it, for the parts loadLlama and probeBackends read. */
function fakeLlama(gpu: LlamaOptions["gpu"], mathCores = 8): Llama {
    let maxThreads = 0;
    return {
        gpu: gpu === "auto" || gpu == null || typeof gpu === "object" ? false : gpu,
        cpuMathCores: mathCores,
        get maxThreads() { return maxThreads; },
        set maxThreads(value: number) { maxThreads = value; },
        getGpuDeviceNames: async () => ["Apple M2 Max"],
        getVramState: async () => ({total: 48 * GiB, used: 0, free: 48 * GiB, unifiedSize: 48 * GiB}),
        getRamState: async () => ({total: 64 * GiB, free: 3 * GiB, wired: 9 * GiB}),
        dispose: async () => {}
    } as unknown as Llama;
}

describe("Apple Silicon: --gpu cpu is the Metal build with 0 GPU layers", () => {
    test("loads the Metal binary (there is no CPU-only one) and reports the CPU backend, so models get 0 GPU layers", async () => {
        const asked: LlamaOptions[] = [];
        const llama = await loadLlama({gpu: "cpu", threads: 4, platform: appleSilicon, getLlama: async (options) => {
            asked.push(options);
            return fakeLlama(options.gpu);
        }});
        expect(asked.map((options) => options.gpu)).toEqual(["metal"]);
        expect(backendOf(llama)).toBe("cpu");
    });

    test("elsewhere --gpu cpu loads the CPU-only binary", async () => {
        const asked: LlamaOptions[] = [];
        const llama = await loadLlama({gpu: "cpu", threads: 4, platform: linux, getLlama: async (options) => {
            asked.push(options);
            return fakeLlama(options.gpu);
        }});
        expect(asked.map((options) => options.gpu)).toEqual([false]);
        expect(backendOf(llama)).toBe("cpu");
    });

    test("a Metal build that fails to load does not suggest --gpu cpu (the same binary)", async () => {
        const failing = async () => {
            throw new Error("dlopen failed");
        };
        await expect(loadLlama({gpu: "metal", platform: appleSilicon, getLlama: failing})).rejects.toMatchObject({hint: expect.not.stringMatching(/--gpu cpu/)});
        await expect(loadLlama({gpu: "cuda", platform: linux, getLlama: failing})).rejects.toMatchObject({hint: expect.stringMatching(/--gpu cpu/)});
    });

    test("doctor's probe lists cpu as loading with Metal, never asking node-llama-cpp for a CPU-only binary", async () => {
        const asked: LlamaOptions["gpu"][] = [];
        class NoBinaryFoundError extends Error {}
        const nodeLlamaCpp = {
            getLlamaGpuTypes: async (include: "supported" | "allValid") => include === "allValid" ? ["metal", "vulkan", false] : ["metal", false],
            getLlama: async (options: LlamaOptions) => {
                asked.push(options.gpu);
                if (options.gpu !== "metal") throw new NoBinaryFoundError("no binary");
                return fakeLlama("metal");
            },
            LlamaLogLevel: {disabled: "disabled"},
            NoBinaryFoundError
        } as never;
        const probe = await probeBackends({importLlamaCpp: async () => nodeLlamaCpp, platform: appleSilicon});
        expect(probe.backend).toBe("metal");
        expect(probe.backends).toContainEqual({backend: "cpu", loaded: true});
        expect(probe.nativeError).toBeUndefined();
        expect(asked).not.toContain(false);
        expect(probe).toMatchObject({cpuMathCores: 8, ram: {totalBytes: 64 * GiB, wiredBytes: 9 * GiB}});
    });
});

describe("threads: the cores that do math", () => {
    test("an M2 Max's 8 performance cores of 12, not all 12", () => {
        expect(threadsFromMathCores(12, 8, {})).toBe(8);
    });

    test("a container's quota still caps it, and MIXTRAL_THREADS still wins", () => {
        expect(threadsFromMathCores(4, 8, {})).toBe(4);
        expect(threadsFromMathCores(12, 8, {MIXTRAL_THREADS: "3"})).toBe(3);
    });

    test("loading without --threads sets the binding's count from its math cores", async () => {
        const llama = await loadLlama({gpu: "cpu", platform: linux, env: {}, getLlama: async (options) => fakeLlama(options.gpu, 1)});
        expect(llama.maxThreads).toBe(Math.min(usableCpuCores(), 1));
    });
});

describe("a Mac's memory", () => {
    test("the GPU gets 2/3 of unified memory below 36 GiB and 3/4 from 36 GiB, as macOS's default wired limit", () => {
        expect(metalWorkingSetBytes(32 * GiB)).toBe(Math.floor(32 * GiB * 2 / 3));
        expect(metalWorkingSetBytes(16 * GiB)).toBe(Math.floor(16 * GiB * 2 / 3));
        expect(metalWorkingSetBytes(36 * GiB)).toBe(27 * GiB);
        expect(metalWorkingSetBytes(64 * GiB)).toBe(48 * GiB);
    });

    const machine: HardwareProbe = {
        source: "probe", backend: "cpu", backends: [], gpus: [], cpu: {model: "x", cores: 8}, ram: {totalBytes: 32 * GiB, freeBytes: 30 * GiB},
        modelsDir: "/m", diskFreeBytes: null, nvidiaDriverPresent: false
    };

    test.each([[32, 2 / 3], [64, 3 / 4]])("a simulated %i GB Mac plans within its GPU share", (gib, share) => {
        const probe = simulateHardware({gpu: "metal", ram: `${gib}GB`}, machine);
        expect(probe.gpus[0]?.vramTotalBytes).toBe(Math.floor(gib * GiB * share));
        const plan = planPlacement({hardware: probe, catalog});
        expect(plan.memory.gpuBudgetBytes).toBeLessThanOrEqual(gib * GiB * share);
        expect(plan.memory.gpuNeedBytes).toBeLessThanOrEqual(plan.memory.gpuBudgetBytes);
    });

    test("a plan that does not fit the GPU share names iogpu.wired_limit_mb", () => {
        const probe = simulateHardware({gpu: "metal", ram: "32GB"}, machine);
        const plan = planPlacement({hardware: probe, catalog, contextSize: 32768});
        expect(plan.placement).not.toBe("gpu");
        expect(adviseOnHardware(probe, plan, {planDownloaded: true, diskMarginBytes: 0}).join("\n")).toMatch(/sudo sysctl iogpu\.wired_limit_mb=\d+/);
    });

    test("free memory on macOS is what is not wired (node-llama-cpp's view), not os.freemem's truly free pages", () => {
        const binding = {totalBytes: 64 * GiB, wiredBytes: 9 * GiB};
        expect(hostMemory("darwin", binding, {total: 64 * GiB, free: 2 * GiB})).toEqual({total: 64 * GiB, free: 55 * GiB});
        expect(hostMemory("linux", binding, {total: 64 * GiB, free: 20 * GiB})).toEqual({total: 64 * GiB, free: 20 * GiB});
    });
});

describe("Windows + an NVIDIA GPU", () => {
    const probe: HardwareProbe = {
        source: "probe", backend: "vulkan", gpus: [], cpu: {model: "x", cores: 16}, ram: {totalBytes: 64 * GiB, freeBytes: 50 * GiB},
        backends: [{backend: "cuda", loaded: false, reason: "no CUDA runtime"}, {backend: "vulkan", loaded: true}, {backend: "cpu", loaded: true}],
        modelsDir: "C:\\m", diskFreeBytes: null, nvidiaDriverPresent: true
    };
    const plan = planPlacement({hardware: probe, catalog});

    test("only the driver, no CUDA runtime: the hint names the CUDA 12 DLLs and CUDA_PATH, and says it runs on Vulkan meanwhile", () => {
        const hints = adviseOnHardware(probe, plan, {planDownloaded: true, diskMarginBytes: 0, system: {platform: "win32", arch: "x64"}}).join("\n");
        expect(hints).toMatch(/cudart64_12\.dll/);
        expect(hints).toMatch(/CUDA_PATH/);
        expect(hints).toMatch(/Vulkan/);
        expect(hints).not.toMatch(/libcudart|ldconfig/);
    });

    test("on Linux the hint names the shared libraries and the loader instead", () => {
        const hints = adviseOnHardware(probe, plan, {planDownloaded: true, diskMarginBytes: 0, system: linux}).join("\n");
        expect(hints).toMatch(/libcudart/);
        expect(hints).not.toMatch(/\.dll/);
    });

    test("a model that --gpu auto put on Vulkan beside an NVIDIA driver gets a note naming the missing CUDA runtime", async () => {
        const {vulkanInsteadOfCudaNote} = await import("../../src/hardware/platformBackends.js");
        expect(vulkanInsteadOfCudaNote("vulkan", "auto", true, {platform: "win32", arch: "x64"})).toMatch(/running on Vulkan.*CUDA Toolkit 12/);
        expect(vulkanInsteadOfCudaNote("vulkan", "vulkan", true, {platform: "win32", arch: "x64"})).toBeUndefined();
        expect(vulkanInsteadOfCudaNote("vulkan", "auto", false, {platform: "win32", arch: "x64"})).toBeUndefined();
        expect(vulkanInsteadOfCudaNote("cuda", "auto", true, linux)).toBeUndefined();
    });

    test("the driver is found by its nvml.dll in System32 and by nvidia-smi.exe on Path", () => {
        const nvml = "C:\\Windows\\System32\\nvml.dll";
        expect(nvidiaDriverPresent(() => undefined, {SystemRoot: "C:\\Windows"}, "win32", (file) => file === nvml)).toBe(true);
        const smi = "C:\\Program Files\\NVIDIA Corporation\\NVSMI\\nvidia-smi.exe";
        expect(nvidiaDriverPresent(() => undefined, {Path: "C:\\Program Files\\NVIDIA Corporation\\NVSMI;C:\\x"}, "win32", (file) => file === smi)).toBe(true);
        expect(nvidiaDriverPresent(() => undefined, {Path: "C:\\x"}, "win32", () => false)).toBe(false);
    });

    test("chat, complete and serve on musl or NixOS, when the binding does not load, are told what will work, not to reinstall", async () => {
        const failing = async () => {
            throw new Error("Error relocating: __memcpy_chk: symbol not found");
        };
        const hintOn = (libc: {musl: boolean, nixos: boolean}) => loadLlama({gpu: "auto", platform: linux, getLlama: failing, libc: () => libc}).catch((error: {hint: string}) => error.hint);
        expect(await hintOn({musl: true, nixos: false})).toMatch(/^node-llama-cpp's prebuilt binaries are built for glibc.*reinstalling will not help\. `mixtral doctor`/);
        expect(await hintOn({musl: false, nixos: true})).toMatch(/nix-ld/);
        expect(await hintOn({musl: false, nixos: false})).toMatch(/^Reinstall with `npm ci`/);
    });

    test("musl and NixOS are told what will work, not to reinstall", () => {
        const broken = {...probe, backend: "cpu" as const, nativeError: "libc.so.6: not found"};
        const hint = (libc: {musl: boolean, nixos: boolean}) => adviseOnHardware(broken, plan, {planDownloaded: true, diskMarginBytes: 0, system: linux, libc: () => libc}).join("\n");
        expect(hint({musl: true, nixos: false})).toMatch(/glibc image/);
        expect(hint({musl: false, nixos: true})).toMatch(/nix-ld/);
        expect(hint({musl: false, nixos: false})).toMatch(/npm ci/);
    });
});
