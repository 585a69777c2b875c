import os from "node:os";
import fs from "node:fs/promises";
import {ExitCode, isAbortError, MixtralError, UsageError} from "../../errors.js";
import {readPreviousRun, type PreviousRow} from "../../bench/compareRuns.js";
import {expandInstances, hasTests, type BenchParams} from "../../bench/expandInstances.js";
import {measureMemoryBandwidth} from "../../bench/measureMemoryBandwidth.js";
import {createPrinter} from "../../bench/printers/createPrinter.js";
import {runBench, type BenchProgress} from "../../bench/runBench.js";
import {renderSvgPlot} from "../../bench/svgPlot.js";
import {testName} from "../../bench/buildRow.js";
import {rerunNote} from "../../bench/rerunNote.js";
import {busyMachineNote} from "../../bench/busyMachineNote.js";
import type {BenchFailure, BenchInstance} from "../../bench/types.js";
import {benchFlagNames, checkKvCacheSettings} from "../../hardware/kvCacheSettings.js";
import {outputFormatFrom, type BenchOptions} from "../flags/benchFlags.js";
import {loraAdaptersOf} from "../flags/loraOptions.js";
import {usableCpuCores} from "../../hardware/cpuCores.js";
import {interruptController, stopGraceMs} from "../interrupt.js";
import {warnAboutThreads} from "../warnAboutThreads.js";
import {resolveModel} from "../resolveModelPath.js";
import {checkExpertsOfFile} from "../../gguf/expertsUsed.js";
import {startSpinner, type Spinner} from "../ui/spinner.js";
import {drainStdout, writeOut} from "../ui/stdout.js";
import {logLine, terminalPolicy} from "../ui/terminal.js";

function paramsFrom(options: BenchOptions, threads: readonly number[]): BenchParams {
    const models = options.model ?? [];
    if (models.length === 0) throw new UsageError("No model given.", {hint: "Pass --model <file.gguf> (repeat it to compare files or quants)."});
    return {
        models,
        ...(options.experts == null ? {} : {experts: options.experts}),
        nPrompt: options.nPrompt,
        nGen: options.nGen,
        promptGen: options.pg ?? [],
        nDepth: options.nDepth,
        threads,
        gpuLayers: options.gpuLayers,
        batchSize: options.batchSize,
        typeK: options.cacheTypeK,
        typeV: options.cacheTypeV,
        // A bare --flash-attn (commander gives true) is llama-bench's -fa 1.
        flashAttention: options.flashAttn === true ? ["on"] : options.flashAttn
    };
}

/** What llama.cpp would refuse for every model (a quantized V cache without flash attention), refused before any loads. */
function checkCombinations(params: BenchParams) {
    for (const typeK of params.typeK)
        for (const typeV of params.typeV)
            for (const flashAttention of params.flashAttention)
                checkKvCacheSettings({typeK, typeV, flashAttention}, undefined, benchFlagNames);
}

function describe(instance: BenchInstance, withGpuLayers: boolean): string {
    const name = instance.model.split(/[\\/]/).pop() ?? instance.model;
    return `${name} ${testName({n_prompt: instance.nPrompt, n_gen: instance.nGen, n_depth: instance.nDepth})} t=${instance.threads}` +
        (withGpuLayers ? ` ngl=${instance.gpuLayers}` : "") + (instance.expertsUsed == null ? "" : ` experts=${instance.expertsUsed}`);
}

/**
 * --experts against every model's header before anything loads: a value outside 1..expert_count
 * (or any on a dense model) is a usage error, not a failed row after minutes of others.
 */
async function checkExpertsOfModels(params: BenchParams, signal: AbortSignal) {
    if (params.experts == null) return;
    for (const model of new Set(params.models))
        await checkExpertsOfFile((await resolveModel(model, {signal})).path, params.experts);
}

export async function runBenchCommand(options: BenchOptions) {
    // Without -t the thread count is known once llama.cpp has counted the math cores (below).
    let params = paramsFrom(options, options.threads ?? []);
    checkCombinations(params);
    if (options.threads != null) warnAboutThreads(params.threads);
    const format = outputFormatFrom(options.output);
    if (!hasTests(params)) throw new UsageError("Nothing to run: every test size is 0.", {hint: "Give -p, -n or --pg a size above 0."});
    // A bad --compare file should fail before minutes of measuring, not after.
    const previous: PreviousRow[] | undefined = options.compare == null ? undefined : await readPreviousRun(options.compare);

    const policy = terminalPolicy();
    // Rows already printed stay a valid document when Ctrl+C ends the run (--compare reads it).
    let closeOutput = () => {};
    const interrupt = interruptController({beforeExit: () => closeOutput(), graceMs: stopGraceMs});
    let spinner: Spinner | undefined;
    const stopSpinner = () => {
        spinner?.stop();
        spinner = undefined;
    };
    const status = (text: string) => {
        if (!policy.animate) return;
        if (spinner == null) spinner = startSpinner(text);
        else spinner.text = text;
    };
    const write = (text: string) => {
        stopSpinner();
        writeOut(text);
    };

    await checkExpertsOfModels(params, interrupt.signal);
    const {createBenchEngine} = await import("../../engine/index.js");
    const maxThreads = options.threads == null ? undefined : Math.max(...options.threads);
    const engine = await createBenchEngine({gpu: options.gpu, maxThreads, onLog: options.verbose === true ? logLine : undefined, lora: loraAdaptersOf(options), signal: interrupt.signal});
    if (options.threads == null) {
        params = paramsFrom(options, [engine.defaultThreads]);
        const source = process.env.MIXTRAL_THREADS ? "from MIXTRAL_THREADS" : "one a math core, as llama-bench's default";
        logLine(`threads: ${engine.defaultThreads} (${source}; -t to change)`);
    }
    const instances = expandInstances(params);
    try {
        const system = await engine.systemInfo();
        const showGpuLayers = system.backends !== "CPU" || params.gpuLayers.length > 1;
        const printer = createPrinter(format, {
            backends: system.backends,
            buildCommit: system.buildCommit,
            buildNumber: system.buildNumber,
            showThreads: system.backends === "CPU" || params.threads.length > 1,
            showGpuLayers,
            showBatch: params.batchSize !== 512,
            // As llama-bench: a column only for settings that differ from its defaults (f16, auto).
            showFlashAttention: params.flashAttention.some((mode) => mode !== "auto"),
            showTypeK: params.typeK.some((type) => type !== "f16"),
            showTypeV: params.typeV.some((type) => type !== "f16"),
            showExperts: params.experts != null,
            showRoofline: params.nGen.some((n) => n > 0),
            showCompare: previous != null,
            showE2e: options.mode === "e2e",
            // A terminal of 0 columns (`script -qc`, `docker exec -t` before a resize) says nothing of its width.
            maxWidth: process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : undefined,
            testWidth: Math.max(...instances.map((instance) => testName({n_prompt: instance.nPrompt, n_gen: instance.nGen, n_depth: instance.nDepth}).length)),
            paint: {dim: policy.colors.dim, bold: policy.colors.bold, bar: policy.colors.cyan}
        });
        write(printer.header());
        closeOutput = () => {
            closeOutput = () => {};
            write(printer.footer());
        };

        let lastAnnounced = 0;
        const onProgress = ({index, total, instance, step}: BenchProgress) => {
            const text = `[${index}/${total}] ${describe(instance, showGpuLayers)}: ${step}`;
            // Without a terminal, one line a test (as llama-bench --progress) shows movement without a flood.
            if (!policy.animate && index !== lastAnnounced) logLine(`bench ${text}`);
            lastAnnounced = index;
            status(text);
        };
        const onFailure = ({instance, message, hint}: BenchFailure) => {
            stopSpinner();
            logLine(`${policy.stderrColors.red("failed:")} ${describe(instance, showGpuLayers)}: ${message}`);
            if (hint != null && options.verbose === true) logLine(`${policy.stderrColors.dim("hint:")} ${hint}`);
        };

        const outcome = await runBench({
            engine,
            instances,
            resolveModel: async (name) => (await resolveModel(name, {signal: interrupt.signal})).path,
            repetitions: options.repetitions,
            warmup: options.warmup,
            e2e: options.mode === "e2e",
            bandwidth: {
                userGBs: options.bandwidth,
                measureCpu: () => {
                    status("measuring memory bandwidth for the roofline");
                    // The machine's peak, not what -t threads reach: every usable core reads.
                    return measureMemoryBandwidth({threads: usableCpuCores(), signal: interrupt.signal});
                }
            },
            previous,
            signal: interrupt.signal,
            onProgress,
            onLoadProgress: (model, fraction) => status(`loading ${model} ${(fraction * 100).toFixed(0)}%`),
            onRow: (row) => {
                write(printer.row(row));
                for (const note of [rerunNote(row), busyMachineNote(row, os.cpus().length)])
                    if (note != null) logLine(`note: ${note}`);
            },
            onFailure
        }).catch((error: unknown) => {
            if (isAbortError(error)) closeOutput();
            throw error;
        });
        closeOutput();
        stopSpinner();
        if (options.plot != null) {
            await fs.writeFile(options.plot, renderSvgPlot(outcome.rows)).catch((error: unknown) => {
                throw new MixtralError(`Cannot write the plot to ${options.plot}.`, {hint: "Check that its folder exists and is writable; the results above are complete.", cause: error});
            });
            logLine(`plot written to ${options.plot}`);
        }
        if (outcome.failures.length > 0) {
            logLine(`${outcome.failures.length} of ${instances.length} tests failed.`);
            process.exitCode = ExitCode.failure;
        }
        await drainStdout();
    } finally {
        stopSpinner();
        interrupt.dispose();
        await engine.dispose();
    }
}
