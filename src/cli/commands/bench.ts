import fs from "node:fs/promises";
import {ExitCode, isAbortError, MixtralError, UsageError} from "../../errors.js";
import {readPreviousRun, type PreviousRow} from "../../bench/compareRuns.js";
import {expandInstances, type BenchParams} from "../../bench/expandInstances.js";
import {measureMemoryBandwidth} from "../../bench/measureMemoryBandwidth.js";
import {createPrinter} from "../../bench/printers/createPrinter.js";
import {outputFormats, type OutputFormat} from "../../bench/printers/types.js";
import {runBench, type BenchProgress} from "../../bench/runBench.js";
import {renderSvgPlot} from "../../bench/svgPlot.js";
import {testName} from "../../bench/buildRow.js";
import {rerunNote} from "./benchRowNotes.js";
import type {BenchFailure, BenchInstance} from "../../bench/types.js";
import {benchFlagNames, checkKvCacheSettings} from "../../engine/kvCacheSettings.js";
import type {LoraAdapter} from "../../engine/loraAdapters.js";
import type {GpuChoice} from "../../engine/types.js";
import {cacheTypes, type CacheType, type FlashAttentionMode} from "../../hardware/kvCacheTypes.js";
import {loraAdaptersOf} from "../loraOptions.js";
import {defaultThreadCount, usableCpuCores} from "../../hardware/cpuCores.js";
import {interruptController, stopGraceMs} from "../interrupt.js";
import {warnAboutThreads} from "../warnAboutThreads.js";
import {resolveModel} from "../resolveModelPath.js";
import {startSpinner, type Spinner} from "../ui/spinner.js";
import {drainStdout, writeOut} from "../ui/stdout.js";
import {logLine, terminalPolicy} from "../ui/terminal.js";

/** The flags as commander hands them over: list-valued flags stay strings until parsed here. */
export type BenchOptions = {
    model?: string[],
    nPrompt: string,
    nGen: string,
    pg?: string[],
    nDepth: string,
    repetitions: number,
    threads?: string,
    gpu: GpuChoice,
    gpuLayers: string,
    batchSize: number,
    cacheTypeK: string,
    cacheTypeV: string,
    /** A list, or true for a bare --flash-attn (the boolean flag it used to be). */
    flashAttn: string | true,
    output?: string,
    mode: "throughput" | "e2e",
    warmup: boolean,
    bandwidth?: number,
    compare?: string,
    plot?: string,
    verbose?: boolean,
    lora?: LoraAdapter[],
    loraScaled?: LoraAdapter[]
};

/** "128,512" → [128, 512]; every item a whole number within bounds, or one sentence naming the flag. */
export function parseIntegerList(flag: string, value: string, min: number, max = 1_000_000): number[] {
    const items = value.split(",").map((item) => item.trim());
    return items.map((item) => {
        const parsed = Number(item);
        if (!/^\d+$/.test(item) || parsed < min || parsed > max)
            throw new UsageError(`${flag} expects comma-separated whole numbers from ${min} to ${max}; got "${value}".`, {
                hint: `For example: ${flag} ${Math.max(min, 1)},${Math.max(min, 1) * 2}`
            });
        return parsed;
    });
}

export function parseGpuLayersList(value: string): (number | "max")[] {
    return value.split(",").map((item) => item.trim() === "max" ? "max" as const : parseIntegerList("--gpu-layers", item, 0, 10_000)[0] ?? 0);
}

/** --pg 512,128 (repeatable): prompt tokens, then generated tokens, timed together. */
export function parsePromptGenPairs(values: readonly string[]): [number, number][] {
    return values.map((value) => {
        const [prompt, gen, ...rest] = parseIntegerList("--pg", value, 0);
        if (prompt == null || gen == null || rest.length > 0)
            throw new UsageError(`--pg expects two numbers, prompt and generated tokens; got "${value}".`, {hint: "For example: --pg 512,128"});
        return [prompt, gen];
    });
}

function paramsFrom(options: BenchOptions): BenchParams {
    const models = (options.model ?? []).flatMap((model) => model.split(",")).map((model) => model.trim()).filter((model) => model !== "");
    if (models.length === 0) throw new UsageError("No model given.", {hint: "Pass --model <file.gguf> (repeat it to compare files or quants)."});
    return {
        models,
        nPrompt: parseIntegerList("-p", options.nPrompt, 0),
        nGen: parseIntegerList("-n", options.nGen, 0),
        promptGen: parsePromptGenPairs(options.pg ?? []),
        nDepth: parseIntegerList("-d", options.nDepth, 0),
        threads: options.threads == null ? [defaultThreadCount()] : parseIntegerList("-t", options.threads, 1, 1024),
        gpuLayers: parseGpuLayersList(options.gpuLayers),
        batchSize: options.batchSize,
        typeK: parseCacheTypeList("-ctk", options.cacheTypeK),
        typeV: parseCacheTypeList("-ctv", options.cacheTypeV),
        flashAttention: parseFlashAttentionList(options.flashAttn === true ? "1" : options.flashAttn)
    };
}

export function parseCacheTypeList(flag: string, value: string): CacheType[] {
    return value.split(",").map((item) => {
        const type = item.trim().toLowerCase();
        if (!(cacheTypes as readonly string[]).includes(type))
            throw new UsageError(`${flag} expects comma-separated cache types (${cacheTypes.join(", ")}); got "${value}".`, {hint: `For example: ${flag} f16,q8_0`});
        return type as CacheType;
    });
}

/** llama-bench's -fa values: 1/on/true/enabled, 0/off/false/disabled, auto/-1. */
export function parseFlashAttentionList(value: string): FlashAttentionMode[] {
    return value.split(",").map((item): FlashAttentionMode => {
        const word = item.trim().toLowerCase();
        if (["1", "on", "true", "enabled"].includes(word)) return "on";
        if (["0", "off", "false", "disabled"].includes(word)) return "off";
        if (word === "auto" || word === "-1") return "auto";
        throw new UsageError(`-fa expects comma-separated 0, 1 or auto; got "${value}".`, {hint: "For example: -fa 0,1"});
    });
}

/** What llama.cpp would refuse for every model (a quantized V cache without flash attention), refused before any loads. */
function checkCombinations(params: BenchParams) {
    for (const typeK of params.typeK)
        for (const typeV of params.typeV)
            for (const flashAttention of params.flashAttention)
                checkKvCacheSettings({typeK, typeV, flashAttention}, undefined, benchFlagNames);
}

export function outputFormatFrom(value: string | undefined): OutputFormat {
    // llama-bench prints markdown; on a terminal a table with bars reads better.
    if (value == null) return process.stdout.isTTY === true ? "table" : "md";
    if (!(outputFormats as readonly string[]).includes(value))
        throw new UsageError(`Unknown output format "${value}".`, {hint: `Use one of: ${outputFormats.join(", ")}.`});
    return value as OutputFormat;
}

function describe(instance: BenchInstance, withGpuLayers: boolean): string {
    const name = instance.model.split(/[\\/]/).pop() ?? instance.model;
    return `${name} ${testName({n_prompt: instance.nPrompt, n_gen: instance.nGen, n_depth: instance.nDepth})} t=${instance.threads}` +
        (withGpuLayers ? ` ngl=${instance.gpuLayers}` : "");
}

export async function runBenchCommand(options: BenchOptions) {
    const params = paramsFrom(options);
    checkCombinations(params);
    if (options.threads != null) warnAboutThreads(params.threads);
    const format = outputFormatFrom(options.output);
    const instances = expandInstances(params);
    if (instances.length === 0) throw new UsageError("Nothing to run: every test size is 0.", {hint: "Give -p, -n or --pg a size above 0."});
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

    const {createBenchEngine} = await import("../../engine/benchmark.js");
    const maxThreads = Math.max(...params.threads);
    const engine = await createBenchEngine({gpu: options.gpu, maxThreads, onLog: options.verbose === true ? logLine : undefined, lora: loraAdaptersOf(options), signal: interrupt.signal});
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
            showRoofline: params.nGen.some((n) => n > 0),
            showCompare: previous != null,
            showE2e: options.mode === "e2e",
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
                const note = rerunNote(row);
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
