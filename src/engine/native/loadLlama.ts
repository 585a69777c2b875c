import {setTimeout as sleep} from "node:timers/promises";
import {getLlama, LlamaLogLevel, type Llama, type LlamaOptions} from "node-llama-cpp";
import {EngineError, InterruptedError} from "../../errors.js";
import type {Backend, GpuChoice} from "../../hardware/types.js";
import {defaultThreadCount, threadsFromMathCores} from "../../hardware/cpuCores.js";
import {cpuPathBinary, gpuLoadFailureHint, nativeBindingHint, thisPlatform, type LinuxLibc, type PlatformOf} from "../../hardware/platformBackends.js";
import {linuxLibc} from "../../hardware/probeSystem.js";

export type LoadLlamaOptions = {
    gpu: GpuChoice,
    /** Default ggml threads; from the usable core count when not given. */
    threads?: number,
    /** llama.cpp's own log lines (to stderr) only with --verbose. */
    onLog?: (message: string) => void,
    /** Ctrl+C: getLlama cannot be cancelled, but its outcome is then "interrupted", never a failure. */
    signal?: AbortSignal,
    /** This machine unless a test says otherwise (which binary is the CPU path depends on it). */
    platform?: PlatformOf,
    /** node-llama-cpp's getLlama; replaceable so a test can see what is asked for on another platform. */
    getLlama?: (options: LlamaOptions) => Promise<Llama>,
    env?: NodeJS.ProcessEnv,
    /** The cores this process may use (affinity, cgroup quota); replaceable for tests. */
    usableCores?: () => number,
    /** musl or NixOS, where reinstalling cannot help (probeSystem.ts); replaceable for tests. */
    libc?: () => LinuxLibc
};

/**
 * Llamas loaded for `--gpu cpu` with a GPU build (the Metal build on Apple Silicon, where
 * node-llama-cpp ships no CPU-only one): they report "cpu", so every model on them gets 0 GPU layers.
 */
const cpuPathLlamas = new WeakSet<Llama>();

/**
 * How long a failed getLlama waits for a Ctrl+C still on its way: the terminal's SIGINT reaches
 * node-llama-cpp's binding-test child and this process at once, and the child's death may be seen
 * first, as a binding that "failed to load".
 */
const pendingSignalGraceMs = 300;

/**
 * Loads the native binding. Never builds from source: the prebuilt @node-llama-cpp/* packages are
 * what npm installs, and a source build would need a toolchain and minutes the user did not ask for.
 */
export async function loadLlama({gpu, threads, onLog, signal, platform = thisPlatform, getLlama: load = getLlama, env = process.env, usableCores, libc = linuxLibc}: LoadLlamaOptions): Promise<Llama> {
    const maxThreads = threads ?? defaultThreadCount(env, usableCores);
    const cpuBinary = cpuPathBinary(platform);
    const interrupted = () => new InterruptedError("Interrupted while starting llama.cpp.");
    // A function, not a property read: TypeScript would keep the first check's narrowing.
    const aborted = () => signal?.aborted === true;
    if (aborted()) throw interrupted();
    const consoleOutput: string[] = [];
    let llama: Llama;
    try {
        llama = await withConsoleCaptured(consoleOutput, () => load({
            gpu: gpu === "cpu" ? (cpuBinary === "metal" ? "metal" : false) : gpu,
            build: "never",
            usePrebuiltBinaries: true,
            progressLogs: false,
            skipDownload: true,
            maxThreads,
            logLevel: onLog != null ? LlamaLogLevel.debug : LlamaLogLevel.error,
            // Without --verbose errors still reach the user through the thrown error; stay quiet.
            logger: (_level, message) => onLog?.(message.trimEnd())
        }));
    } catch (error) {
        await sleep(pendingSignalGraceMs);
        if (aborted()) throw interrupted();
        for (const line of consoleOutput) onLog?.(line);
        throw new EngineError(
            gpu === "auto" || gpu === "cpu"
                ? "The llama.cpp native binding could not be loaded."
                : `The ${gpu.toUpperCase()} build of llama.cpp could not be loaded on this machine.`,
            {
                hint: gpu === "auto" || gpu === "cpu"
                    ? `${nativeBindingHint(libc(), platform)} \`mixtral doctor\` shows what was found.`
                    : gpuLoadFailureHint(platform),
                cause: consoleOutput.length > 0 ? new Error(consoleOutput.join("\n"), {cause: error}) : error
            }
        );
    }
    for (const line of consoleOutput) onLog?.(line);
    if (aborted()) {
        await llama.dispose().catch(() => {});
        throw interrupted();
    }
    if (gpu === "cpu" && cpuBinary === "metal") cpuPathLlamas.add(llama);
    // No count given: llama.cpp's own default, the cores that do math (performance cores on Apple
    // Silicon and Intel hybrids, one per physical core with SMT), which the binding knows once loaded.
    if (threads == null) llama.maxThreads = threadsFromMathCores(maxThreads, llama.cpuMathCores, env);
    return llama;
}

/**
 * node-llama-cpp reports a binding that failed its test on the console, stack trace and all,
 * before it throws: keep those lines for --verbose and the error's cause instead.
 */
async function withConsoleCaptured<T>(lines: string[], run: () => Promise<T>): Promise<T> {
    const saved = {error: console.error, warn: console.warn, log: console.log, info: console.info};
    const capture = (...items: unknown[]) => {
        lines.push(items.map((item) => item instanceof Error ? item.stack ?? item.message : String(item)).join(" "));
    };
    Object.assign(console, {error: capture, warn: capture, log: capture, info: capture});
    try {
        return await run();
    } finally {
        Object.assign(console, saved);
    }
}

export function backendOf(llama: Llama): Backend {
    return llama.gpu === false || cpuPathLlamas.has(llama) ? "cpu" : llama.gpu;
}
