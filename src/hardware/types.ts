import type {LoadAverage} from "./cpuLoad.js";

/** A compute backend of llama.cpp that node-llama-cpp ships prebuilt. */
export type Backend = "cuda" | "metal" | "vulkan" | "cpu";
/** --gpu: a backend, or the best one that loads. */
export type GpuChoice = "auto" | Backend;

export type GpuBackend = Exclude<Backend, "cpu">;

export type GpuInfo = {
    type: GpuBackend,
    name: string,
    vramTotalBytes: number,
    vramFreeBytes: number,
    /** Apple Silicon: the GPU shares the system RAM, so VRAM and RAM are one budget. */
    unifiedMemory: boolean
};

/** Whether a compute backend's native binary loads here, and if not, why. */
export type BackendStatus = {
    backend: Backend,
    loaded: boolean,
    /** Why it did not load (or was not tried); absent when it loaded. */
    reason?: string
};

export type CpuInfo = {
    model: string,
    /** Cores this process may use (affinity and cgroup quota): what thread counts follow. */
    cores: number,
    /** Physical cores when the OS says (llama.cpp runs best with one thread per physical core). */
    physicalCores?: number,
    /** llama.cpp's math cores (performance cores, no hyper-threads), when the binding loaded: the default thread count. */
    mathCores?: number
};

export type MemoryInfo = {totalBytes: number, freeBytes: number};

/** What the machine has, or — with `doctor --gpu/--vram/--ram` — what a user asks about. */
export type HardwareProbe = {
    source: "probe" | "simulated",
    /** The backend models would run on: the best one that loaded. */
    backend: Backend,
    backends: BackendStatus[],
    gpus: GpuInfo[],
    cpu: CpuInfo,
    ram: MemoryInfo,
    modelsDir: string,
    diskFreeBytes: number | null,
    /** An NVIDIA driver is installed (nvidia-smi or /proc/driver/nvidia): CUDA should be possible. */
    nvidiaDriverPresent: boolean,
    /** Set when no native binding loads at all: doctor reports it instead of crashing. */
    nativeError?: string,
    /** The run-queue load now (not on Windows, nor for a simulated machine): how busy the cores are. */
    load?: LoadAverage
};

/** What the engine found of the backends (engine/inspect.ts's probeBackends), passed in so hardware/ never loads node-llama-cpp. */
export type BackendsProbe = {
    /** The best backend that loaded (what `--gpu auto` would use); cpu when none did. */
    backend: Backend,
    backends: BackendStatus[],
    gpus: GpuInfo[],
    /** Set when not even the CPU binary loads. */
    nativeError?: string,
    /** RAM as the binding sees it (node-llama-cpp's getRamState); wiredBytes is set on macOS only. */
    ram?: MemoryInfo & {wiredBytes: number},
    /** llama.cpp's count of cores that do math (performance cores, no hyper-threads). */
    cpuMathCores?: number
};

/** Asks the engine which backends load (all, or only one), e.g. engine/inspect.ts's probeBackends. */
export type ProbeBackends = (options?: {only?: Backend}) => Promise<BackendsProbe>;

/** Stands in for the engine's probe when the answer needs no native binding (`--gpu cpu`, a simulated machine): nothing tried. */
export async function skipBackendsProbe(): Promise<BackendsProbe> {
    return {backend: "cpu", backends: [], gpus: []};
}
