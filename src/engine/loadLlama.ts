import {getLlama, LlamaLogLevel, type Llama} from "node-llama-cpp";
import {EngineError} from "../errors.js";
import type {Backend, GpuChoice} from "./types.js";
import {defaultThreadCount} from "../hardware/cpuCores.js";

export type LoadLlamaOptions = {
    gpu: GpuChoice,
    /** Default ggml threads; from the usable core count when not given. */
    threads?: number,
    /** llama.cpp's own log lines (to stderr) only with --verbose. */
    onLog?: (message: string) => void
};

/**
 * Loads the native binding. Never builds from source: the prebuilt @node-llama-cpp/* packages are
 * what npm installs, and a source build would need a toolchain and minutes the user did not ask for.
 */
export async function loadLlama({gpu, threads, onLog}: LoadLlamaOptions): Promise<Llama> {
    const maxThreads = threads ?? defaultThreadCount();
    try {
        return await getLlama({
            gpu: gpu === "cpu" ? false : gpu,
            build: "never",
            usePrebuiltBinaries: true,
            progressLogs: false,
            skipDownload: true,
            maxThreads,
            logLevel: onLog != null ? LlamaLogLevel.debug : LlamaLogLevel.error,
            // Without --verbose errors still reach the user through the thrown error; stay quiet.
            logger: (_level, message) => onLog?.(message.trimEnd())
        });
    } catch (error) {
        throw new EngineError(
            gpu === "auto" || gpu === "cpu"
                ? "The llama.cpp native binding could not be loaded."
                : `The ${gpu.toUpperCase()} build of llama.cpp could not be loaded on this machine.`,
            {
                hint: gpu === "auto" || gpu === "cpu"
                    ? "Reinstall with `npm ci` so the prebuilt @node-llama-cpp/* binaries are present; `mixtral doctor` shows what was found."
                    : "Try `--gpu auto` or `--gpu cpu`; `mixtral doctor` shows which backends load.",
                cause: error
            }
        );
    }
}

export function backendOf(llama: Llama): Backend {
    return llama.gpu === false ? "cpu" : llama.gpu;
}
