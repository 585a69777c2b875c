import {describe, expect, test} from "vitest";
import {probeBackends} from "../../src/engine/inspect.js";
import {adviseOnHardware} from "../../src/hardware/adviseOnHardware.js";
import {formatMemory, GiB, parseByteSize} from "../../src/hardware/byteSizes.js";
import {physicalCpuCores} from "../../src/hardware/cpuCores.js";
import {planPlacement} from "../../src/hardware/planPlacement.js";
import {nvidiaDriverPresent, probeRam} from "../../src/hardware/probeSystem.js";
import {simulateHardware} from "../../src/hardware/simulateHardware.js";
import type {HardwareProbe} from "../../src/hardware/types.js";
import {UsageError} from "../../src/errors.js";
import {catalog} from "./plannerFixtures.js";

const files = (contents: Record<string, string>) => (path: string) => contents[path];

const machine: HardwareProbe = {
    source: "probe",
    backend: "cpu",
    backends: [{backend: "cpu", loaded: true}],
    gpus: [],
    cpu: {model: "AMD EPYC", cores: 2, physicalCores: 2},
    ram: {totalBytes: 24 * GiB, freeBytes: 22 * GiB},
    modelsDir: "/models",
    diskFreeBytes: 100e9,
    nvidiaDriverPresent: false
};

describe("memory sizes typed on the command line", () => {
    test.each([
        ["24GB", 24 * GiB], ["24gb", 24 * GiB], ["24 GiB", 24 * GiB], ["24G", 24 * GiB], ["1.5TB", 1.5 * 1024 * GiB],
        ["512MB", 512 * 1024 ** 2], ["1024", 1024]
    ])("%s is %d bytes (memory units are binary)", (text, bytes) => {
        expect(parseByteSize(text)).toBe(bytes);
    });

    test.each(["", "GB", "lots", "24 XB", "-8GB", "0GB", "1e3GB"])("%j is not a size", (text) => {
        expect(parseByteSize(text)).toBeUndefined();
    });

    test("capacities print in GiB with at most one decimal", () => {
        expect(formatMemory(24 * GiB)).toBe("24 GiB");
        expect(formatMemory(24_684_096 * 1024)).toBe("23.5 GiB");
        expect(formatMemory(512 * 1024 ** 2)).toBe("512 MiB");
    });
});

describe("CPU and RAM probes", () => {
    test("SMT siblings are counted once as physical cores", () => {
        const cpuinfo = [0, 1, 2, 3].map((cpu) => `processor\t: ${cpu}\nphysical id\t: 0\ncore id\t\t: ${cpu % 2}\n`).join("\n");
        expect(physicalCpuCores(files({"/proc/cpuinfo": cpuinfo}))).toBe(2);
    });

    test("physical cores are unknown where /proc/cpuinfo is missing", () => {
        expect(physicalCpuCores(files({}))).toBeUndefined();
    });

    test("a cgroup v2 memory limit below the host's RAM becomes the total, minus what the cgroup uses", () => {
        const ram = probeRam(files({"/sys/fs/cgroup/memory.max": `${8 * GiB}\n`, "/sys/fs/cgroup/memory.current": `${3 * GiB}\n`}),
            {total: 64 * GiB, free: 60 * GiB});
        expect(ram).toEqual({totalBytes: 8 * GiB, freeBytes: 5 * GiB});
    });

    test("an unlimited cgroup leaves the host's RAM", () => {
        const ram = probeRam(files({"/sys/fs/cgroup/memory.max": "max\n"}), {total: 64 * GiB, free: 60 * GiB});
        expect(ram).toEqual({totalBytes: 64 * GiB, freeBytes: 60 * GiB});
    });

    test("the NVIDIA driver is seen through its proc file", () => {
        expect(nvidiaDriverPresent(files({"/proc/driver/nvidia/version": "NVRM version: 550"}), {PATH: ""})).toBe(true);
        expect(nvidiaDriverPresent(files({}), {PATH: ""})).toBe(false);
    });
});

describe("simulated machines replace the probe", () => {
    test("--gpu cuda --vram 24GB --ram 64GB describes a 24 GiB CUDA GPU in a 64 GiB machine", () => {
        const probe = simulateHardware({gpu: "cuda", vram: "24GB", ram: "64GB"}, machine);
        expect(probe.source).toBe("simulated");
        expect(probe.backend).toBe("cuda");
        expect(probe.gpus).toEqual([{type: "cuda", name: "simulated CUDA GPU", vramTotalBytes: 24 * GiB, vramFreeBytes: 24 * GiB, unifiedMemory: false}]);
        expect(probe.ram.totalBytes).toBe(64 * GiB);
        expect(probe.cpu).toEqual(machine.cpu);
    });

    test("--gpu metal --ram 64GB gives the GPU 3/4 of the unified memory (macOS's share from 36 GiB)", () => {
        const probe = simulateHardware({gpu: "metal", ram: "64GB"}, machine);
        expect(probe.gpus[0]?.vramTotalBytes).toBe(48 * GiB);
        expect(probe.gpus[0]?.unifiedMemory).toBe(true);
    });

    test("--ram alone keeps this machine's backend", () => {
        const probe = simulateHardware({ram: "16GB"}, machine);
        expect(probe.backend).toBe("cpu");
        expect(probe.ram.totalBytes).toBe(16 * GiB);
    });

    test.each([
        [{vram: "24GB"}, /--vram needs a GPU type/],
        [{gpu: "cuda" as const}, /needs --vram/],
        [{gpu: "cpu" as const, vram: "8GB"}, /does not apply to --gpu cpu/],
        [{gpu: "cuda" as const, vram: "lots"}, /--vram lots is not a size/]
    ])("bad simulation flags %j are a usage error", (flags, message) => {
        expect(() => simulateHardware(flags, machine)).toThrow(UsageError);
        expect(() => simulateHardware(flags, machine)).toThrow(message);
    });
});

describe("the backend probe", () => {
    test("reports a native binding that cannot be imported instead of throwing", async () => {
        const probe = await probeBackends({importLlamaCpp: () => Promise.reject(new Error("libllama.so: cannot open shared object file"))});
        expect(probe.backend).toBe("cpu");
        expect(probe.gpus).toEqual([]);
        expect(probe.nativeError).toMatch(/could not be imported: libllama\.so: cannot open shared object file/);
        expect(probe.backends).toEqual([{backend: "cpu", loaded: false, reason: probe.nativeError}]);
    });
});

describe("hints for common trouble", () => {
    const facts = {planDownloaded: false, diskMarginBytes: 512 * 1024 ** 2};
    const planOf = (probe: HardwareProbe) => planPlacement({hardware: probe, catalog});

    test("an NVIDIA driver with a CUDA build that does not load gets a CUDA hint", () => {
        const probe: HardwareProbe = {...machine, nvidiaDriverPresent: true,
            backends: [{backend: "cuda", loaded: false, reason: "libcublas.so.12: cannot open shared object file"}, {backend: "cpu", loaded: true}]};
        const hints = adviseOnHardware(probe, planOf(probe), facts);
        expect(hints.some((hint) => /NVIDIA driver is installed but the CUDA build .* did not load \(libcublas\.so\.12/.test(hint))).toBe(true);
    });

    test("no CUDA hint without an NVIDIA driver", () => {
        const probe: HardwareProbe = {...machine, backends: [{backend: "cuda", loaded: false, reason: "not detected"}]};
        expect(adviseOnHardware(probe, planOf(probe), facts).join("\n")).not.toMatch(/CUDA/);
    });

    test("too little disk for the planned file is a hint, unless it is already downloaded", () => {
        const probe: HardwareProbe = {...machine, diskFreeBytes: 10e9};
        const plan = planOf(probe);
        expect(adviseOnHardware(probe, plan, facts).join("\n")).toMatch(/has 10\.0 GB free, too little for Q3_K_M \(20\.4 GB\)/);
        expect(adviseOnHardware(probe, plan, {...facts, planDownloaded: true}).join("\n")).not.toMatch(/too little/);
    });

    test("a native binding that does not load is reported with the fix", () => {
        const probe: HardwareProbe = {...machine, nativeError: "node-llama-cpp could not be imported: boom"};
        expect(adviseOnHardware(probe, planOf(probe), facts).join("\n")).toMatch(/does not load \(node-llama-cpp could not be imported: boom\)\. Reinstall with `npm ci`/);
    });

    test("less free RAM than the plan needs is a hint", () => {
        const probe: HardwareProbe = {...machine, ram: {totalBytes: 24 * GiB, freeBytes: 4 * GiB}};
        expect(adviseOnHardware(probe, planOf(probe), facts).join("\n")).toMatch(/Only 4 GiB of RAM is free now/);
    });
});
