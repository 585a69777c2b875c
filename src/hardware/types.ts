import type {Backend} from "../engine/types.js";

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
    physicalCores?: number
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
    nativeError?: string
};
