import type {BackendsProbe} from "./types.js";
import {freeBytes} from "./freeDiskBytes.js";
import {readTextFile} from "./cpuCores.js";
import {probeLoad} from "./cpuLoad.js";
import {hostMemory, nvidiaDriverPresent, probeCpu, probeRam} from "./probeSystem.js";
import type {HardwareProbe} from "./types.js";

export type ProbeHardwareOptions = {
    modelsDir: string,
    /** The native side (engine/inspect.ts's probeBackends), passed in so this module never loads node-llama-cpp. */
    probeBackends: () => Promise<BackendsProbe>,
    platform?: NodeJS.Platform
};

/** Everything the planner and `doctor` need to know about this machine. */
export async function probeHardware({modelsDir, probeBackends, platform = process.platform}: ProbeHardwareOptions): Promise<HardwareProbe> {
    const [backends, diskFreeBytes] = await Promise.all([
        probeBackends(),
        diskFree(modelsDir, platform)
    ]);
    return {
        source: "probe",
        backend: backends.backend,
        backends: backends.backends,
        gpus: backends.gpus,
        cpu: {...probeCpu(), ...(backends.cpuMathCores != null ? {mathCores: backends.cpuMathCores} : {})},
        ram: probeRam(readTextFile, hostMemory(platform, backends.ram)),
        modelsDir,
        diskFreeBytes,
        nvidiaDriverPresent: nvidiaDriverPresent(),
        nativeError: backends.nativeError,
        load: probeLoad(platform)
    };
}

/** Unknown (null) rather than a failed probe when the store's disk cannot be read; on a Mac, with purgeable space, as a pull counts it. */
async function diskFree(dir: string, platform: NodeJS.Platform): Promise<number | null> {
    return freeBytes(dir, {platform}).catch(() => null);
}
