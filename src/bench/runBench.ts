import {InterruptedError, isAbortError, MixtralError} from "../errors.js";
import {validateGgufFile} from "../gguf/validateGguf.js";
import {buildRow} from "./buildRow.js";
import {compareRatio, type PreviousRow} from "./compareRuns.js";
import {decodeBytesOfFile} from "./decodeBytesOfFile.js";
import {groupByLoad} from "./expandInstances.js";
import {rerunPathologicalRepetitions} from "./rerunPathological.js";
import {knownBandwidthFor} from "./knownBandwidths.js";
import {bytesPerGeneratedToken, rooflineTokensPerSecond, type DecodeBytes} from "./roofline.js";
import type {BenchEngine, BenchFailure, BenchInstance, BenchLoadedModel, BenchRow, BenchSystemInfo} from "./types.js";
import {availableCoresBetween, readCpuCounters, type CpuCounters} from "../hardware/cpuLoad.js";

export type BandwidthSource = {
    /** --bandwidth: the user knows best. */
    userGBs?: number,
    /** The CPU RAM copy test, run at most once and only when a CPU tg row needs it. */
    measureCpu: () => Promise<number>
};

export type BenchProgress = {index: number, total: number, instance: BenchInstance, step: string};

export type RunBenchOptions = {
    engine: BenchEngine,
    instances: readonly BenchInstance[],
    /** --model value → local path (catalog names resolve here); a failure fails that model's tests. */
    resolveModel: (name: string) => Promise<string>,
    repetitions: number,
    warmup: boolean,
    e2e: boolean,
    bandwidth: BandwidthSource,
    previous?: readonly PreviousRow[],
    signal?: AbortSignal,
    onProgress?: (progress: BenchProgress) => void,
    onLoadProgress?: (model: string, fraction: number) => void,
    onRow: (row: BenchRow) => void,
    onFailure: (failure: BenchFailure) => void,
    now?: () => Date,
    /** The CPU counters, for busy_cores (replaceable in tests). */
    cpu?: {counters: () => CpuCounters}
};

export type BenchOutcome = {rows: BenchRow[], failures: BenchFailure[], system: BenchSystemInfo};

/** A pure generation test (tg): the only kind the decode roofline bounds. */
function isGenerationTest(instance: BenchInstance): boolean {
    return instance.nPrompt === 0 && instance.nGen > 0;
}

function failureOf(instance: BenchInstance, error: unknown): BenchFailure {
    if (error instanceof MixtralError) return {instance, message: error.message, hint: error.hint};
    return {instance, message: error instanceof Error ? error.message : String(error)};
}

/**
 * Runs every instance, model by model, like llama-bench: a model is loaded once for all the tests
 * that share its file and offload; each test's row is handed over as soon as it is measured. A test
 * that fails is reported and the run goes on; only Ctrl+C stops it.
 */
export async function runBench(options: RunBenchOptions): Promise<BenchOutcome> {
    const {engine, signal} = options;
    const system = await engine.systemInfo();
    const gpuNames = await engine.gpuDeviceNames();
    const rows: BenchRow[] = [];
    const failures: BenchFailure[] = [];
    const total = options.instances.length;
    let index = 0;
    let cpuBandwidth: Promise<number> | undefined;
    const cpu = options.cpu ?? {counters: readCpuCounters};

    /** Ctrl+C ends the run with exit 130, whatever error the interrupted step happened to throw. */
    const throwIfInterrupted = (error: unknown) => {
        if (isAbortError(error)) throw error;
        if (signal?.aborted) throw new InterruptedError("The benchmark was interrupted.", {cause: error});
    };
    const fail = (instance: BenchInstance, error: unknown) => {
        throwIfInterrupted(error);
        const failure = failureOf(instance, error);
        failures.push(failure);
        options.onFailure(failure);
    };

    const bandwidthFor = async (model: BenchLoadedModel): Promise<number | undefined> => {
        if (options.bandwidth.userGBs != null) return options.bandwidth.userGBs;
        const onGpu = system.backends !== "CPU" && model.info.gpuLayers > 0;
        const allOnGpu = onGpu && model.info.gpuLayers > model.info.layerCount;
        const known = knownBandwidthFor(gpuNames);
        // Apple silicon shares one memory between CPU and GPU: its figure holds for any split.
        if (known != null && (allOnGpu || system.backends === "Metal")) return known.gbs;
        // Split across two memories the slower one bounds, but not simply: no ceiling is claimed.
        if (onGpu) return undefined;
        cpuBandwidth ??= options.bandwidth.measureCpu();
        return await cpuBandwidth;
    };

    for (const group of groupByLoad(options.instances)) {
        const first = group[0];
        if (first == null) continue;
        let model: BenchLoadedModel | undefined;
        let decodeBytes: DecodeBytes | undefined;
        try {
            const file = await validateGgufFile(await options.resolveModel(first.model), {expertsUsed: first.expertsUsed});
            // The routed experts' share of the FFN weights follows --experts (file.experts.used).
            decodeBytes = decodeBytesOfFile(file.info, file.experts.used);
            model = await options.engine.loadModel(file, first.gpuLayers, {
                signal,
                onProgress: (fraction) => options.onLoadProgress?.(first.model, fraction)
            });
        } catch (error) {
            for (const instance of group) {
                index++;
                fail(instance, error);
            }
            continue;
        }
        try {
            const needsRoofline = group.some(isGenerationTest);
            // A ceiling that cannot be measured leaves the roofline columns empty; it fails no test.
            const bandwidth = needsRoofline && decodeBytes != null
                ? await bandwidthFor(model).catch((error: unknown) => {
                    throwIfInterrupted(error);
                    return undefined;
                })
                : undefined;
            for (const instance of group) {
                index++;
                const step = (text: string) => options.onProgress?.({index, total, instance, step: text});
                try {
                    const testTime = options.now?.() ?? new Date();
                    const runOptions = {repetitions: options.repetitions, warmup: options.warmup, e2e: options.e2e, signal, onStep: step};
                    const countersBefore = cpu.counters();
                    const timings = await rerunPathologicalRepetitions(model, instance, await model.run(instance, runOptions), runOptions);
                    // What other processes took meanwhile: the cores' busy time less ours.
                    const countersAfter = cpu.counters();
                    const available = availableCoresBetween(countersBefore, countersAfter, 0);
                    const busyCores = available == null ? undefined : countersAfter.cores - available;
                    const rooflineTs = isGenerationTest(instance) && bandwidth != null && decodeBytes != null
                        ? rooflineTokensPerSecond(bandwidth, bytesPerGeneratedToken(decodeBytes, instance.nDepth, instance.nGen))
                        : undefined;
                    const row = buildRow(instance, model.info, system, timings, {testTime, bandwidthGBs: bandwidth, rooflineTs, busyCores});
                    if (options.previous != null) row.compare_ratio = compareRatio(row, options.previous);
                    rows.push(row);
                    options.onRow(row);
                } catch (error) {
                    fail(instance, error);
                }
            }
        } finally {
            await model.dispose();
        }
    }
    return {rows, failures, system};
}
