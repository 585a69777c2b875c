import {freeBytes} from "../models/diskSpace.js";
import type {BackendsProbe} from "../engine/probeBackends.js";
import {nvidiaDriverPresent, probeCpu, probeRam} from "./probeSystem.js";
import type {HardwareProbe} from "./types.js";

export type ProbeHardwareOptions = {
    modelsDir: string,
    /** The native side (engine/probeBackends.ts), passed in so this module never loads node-llama-cpp. */
    probeBackends: () => Promise<BackendsProbe>
};

/** Everything the planner and `doctor` need to know about this machine. */
export async function probeHardware({modelsDir, probeBackends}: ProbeHardwareOptions): Promise<HardwareProbe> {
    const [backends, diskFreeBytes] = await Promise.all([
        probeBackends(),
        diskFree(modelsDir)
    ]);
    return {
        source: "probe",
        backend: backends.backend,
        backends: backends.backends,
        gpus: backends.gpus,
        cpu: probeCpu(),
        ram: probeRam(),
        modelsDir,
        diskFreeBytes,
        nvidiaDriverPresent: nvidiaDriverPresent(),
        nativeError: backends.nativeError
    };
}

/** MIXTRAL_FREE_BYTES stands in for the measurement, as it does for downloads (tests). */
async function diskFree(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
    const override = env.MIXTRAL_FREE_BYTES;
    if (override != null && override !== "" && Number.isFinite(Number(override))) return Number(override);
    return freeBytes(dir).catch(() => null);
}
