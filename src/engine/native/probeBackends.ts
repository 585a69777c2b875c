import type {Backend, BackendStatus, BackendsProbe, GpuInfo} from "../../hardware/types.js";
import {backendNotDetectedReason, cpuPathBinary, thisPlatform, type PlatformOf} from "../../hardware/platformBackends.js";

/**
 * Which of node-llama-cpp's prebuilt backends load on this machine, and the GPUs and VRAM the best
 * one sees. Only types node-llama-cpp finds drivers and runtime libraries for are tried (trying the
 * others costs over a second each and only says "no binary"); never builds from source.
 * Nothing here throws: a binding that cannot even be imported is reported, so `doctor` can say so.
 */
export async function probeBackends({only, importLlamaCpp = () => import("node-llama-cpp"), platform = thisPlatform}: {
    only?: Backend,
    /** Replaceable so a test can show what happens when the binding cannot even be imported, or answer as on a Mac. */
    importLlamaCpp?: () => Promise<Pick<typeof import("node-llama-cpp"), "getLlama" | "getLlamaGpuTypes" | "LlamaLogLevel" | "NoBinaryFoundError">>,
    platform?: PlatformOf
} = {}): Promise<BackendsProbe> {
    let llamaCpp: Awaited<ReturnType<typeof importLlamaCpp>>;
    try {
        llamaCpp = await importLlamaCpp();
    } catch (error) {
        const reason = `node-llama-cpp could not be imported: ${messageOf(error)}`;
        return {backend: "cpu", backends: [{backend: "cpu", loaded: false, reason}], gpus: [], nativeError: reason};
    }
    const {getLlama, getLlamaGpuTypes, LlamaLogLevel, NoBinaryFoundError} = llamaCpp;

    let valid: Backend[];
    let supported: Set<Backend>;
    try {
        valid = (await getLlamaGpuTypes("allValid")).map(backendOf);
        supported = new Set((await getLlamaGpuTypes("supported")).map(backendOf));
    } catch {
        // The GPU detection itself failed: still try the CPU binding, which says whether anything loads.
        valid = ["cpu"];
        supported = new Set(["cpu"]);
    }
    // CPU last: it is the fallback, and it tells whether the native binding loads at all.
    const order = [...valid.filter((backend) => backend !== "cpu"), "cpu" as const]
        .filter((backend) => only == null || backend === only || backend === "cpu");

    // On Apple Silicon the CPU path is the Metal build with 0 GPU layers (platformBackends.ts).
    const cpuBinary = cpuPathBinary(platform);
    const backends: BackendStatus[] = [];
    const gpus: GpuInfo[] = [];
    let best: Backend | undefined;
    let ram: BackendsProbe["ram"];
    let cpuMathCores: number | undefined;
    for (const backend of order) {
        if (!supported.has(backend) && backend !== "cpu") {
            backends.push({backend, loaded: false, reason: backendNotDetectedReason(backend, platform)});
            continue;
        }
        if (backend === "cpu" && cpuBinary !== "cpu" && backends.some((status) => status.backend === cpuBinary && status.loaded)) {
            // The same binary just loaded: loading it again would only cost time.
            backends.push({backend, loaded: true});
            continue;
        }
        // Once a GPU backend works, more GPU bindings would only cost load time.
        if (best != null && backend !== "cpu") {
            backends.push({backend, loaded: false, reason: `not tried: ${best} already works`});
            continue;
        }
        try {
            const llama = await getLlama({
                gpu: backend === "cpu" ? (cpuBinary === "metal" ? "metal" : false) : backend,
                build: "never",
                usePrebuiltBinaries: true,
                skipDownload: true,
                progressLogs: false,
                logLevel: LlamaLogLevel.disabled,
                logger: () => {}
            });
            try {
                if (backend !== "cpu") gpus.push(...await gpusOf(llama, backend));
                // The binding's view of memory, wired pages included (what macOS cannot page out).
                ram ??= await ramOf(llama);
                cpuMathCores ??= llama.cpuMathCores;
            } finally {
                await llama.dispose().catch(() => {});
            }
            backends.push({backend, loaded: true});
            best ??= backend;
        } catch (error) {
            backends.push({backend, loaded: false, reason: error instanceof NoBinaryFoundError
                ? "no prebuilt binary for it loads here (a missing @node-llama-cpp/* package, or a driver too old for it)"
                : messageOf(error)});
        }
    }
    const cpu = backends.find((status) => status.backend === "cpu");
    return {
        backend: best ?? "cpu",
        backends,
        gpus,
        nativeError: best == null && cpu != null && !cpu.loaded ? cpu.reason : undefined,
        ...(ram != null ? {ram} : {}),
        ...(cpuMathCores != null ? {cpuMathCores} : {})
    };
}

async function ramOf(llama: import("node-llama-cpp").Llama): Promise<BackendsProbe["ram"]> {
    try {
        const state = await llama.getRamState();
        return {totalBytes: state.total, freeBytes: state.free, wiredBytes: state.wired};
    } catch {
        return undefined;
    }
}

async function gpusOf(llama: import("node-llama-cpp").Llama, type: Exclude<Backend, "cpu">): Promise<GpuInfo[]> {
    const [names, vram] = await Promise.all([llama.getGpuDeviceNames(), llama.getVramState()]);
    const unifiedMemory = vram.unifiedSize > 0;
    // llama.cpp reports VRAM summed over devices; split it evenly between the names it lists.
    const count = Math.max(1, names.length);
    return (names.length > 0 ? names : [`${type} device`]).map((name) => ({
        type,
        name,
        vramTotalBytes: Math.round(vram.total / count),
        vramFreeBytes: Math.round(vram.free / count),
        unifiedMemory
    }));
}

function backendOf(type: import("node-llama-cpp").LlamaGpuType): Backend {
    return type === false ? "cpu" : type;
}

function messageOf(error: unknown): string {
    return error instanceof Error ? error.message.split("\n")[0] ?? error.name : String(error);
}
