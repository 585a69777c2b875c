import {Option} from "commander";
import type {OutputFormat} from "../../bench/printers/types.js";
import type {LoraAdapter} from "../../engine/index.js";
import type {GpuChoice} from "../../hardware/types.js";
import {UsageError} from "../../errors.js";
import {cacheTypes, type CacheType, type FlashAttentionMode} from "../../hardware/kvCacheTypes.js";

/**
 * bench's flags as commander hands them over: llama-bench's comma-separated lists already parsed
 * (program.ts declares them with the parsers below), so a malformed list is a usage error before
 * anything loads.
 */
export type BenchOptions = {
    /** Every -m, split at commas. */
    model?: string[],
    nPrompt: number[],
    nGen: number[],
    pg?: [number, number][],
    nDepth: number[],
    repetitions: number,
    threads?: number[],
    gpu: GpuChoice,
    gpuLayers: (number | "max")[],
    batchSize: number,
    cacheTypeK: CacheType[],
    cacheTypeV: CacheType[],
    /** A list, or true for a bare --flash-attn (the boolean flag it used to be). */
    flashAttn: FlashAttentionMode[] | true,
    output?: OutputFormat,
    mode: "throughput" | "e2e",
    warmup: boolean,
    bandwidth?: number,
    compare?: string,
    plot?: string,
    verbose?: boolean,
    lora?: LoraAdapter[],
    loraScaled?: LoraAdapter[],
    /** --experts 1,2,4: experts each token is routed to, one load each (the file's own when absent). */
    experts?: number[],
    /** --endpoint and what only it uses: a serving benchmark (commands/benchServing.ts). */
    endpoint?: string,
    concurrency: number[],
    requests: number
};

/**
 * A list flag for commander: what the user gives and the default alike go through `parse`, and the
 * help shows the default as it would be typed ("512").
 */
export function listOption<T>(flags: string, description: string, parse: (value: string) => T, defaultText?: string): Option {
    const option = new Option(flags, description).argParser(parse);
    return defaultText == null ? option : option.default(parse(defaultText), defaultText);
}

/** -m as commander collects it: repeatable, each value a comma-separated list of files or catalog names. */
export function modelList(value: string, previous: string[] | undefined): string[] {
    return [...previous ?? [], ...value.split(",").map((model) => model.trim()).filter((model) => model !== "")];
}

/** A parser for commander: comma-separated whole numbers within bounds. */
export function integerList(flag: string, min: number, max?: number) {
    return (value: string) => parseIntegerList(flag, value, min, max);
}

/** "128,512" → [128, 512]; every item a whole number within bounds, or one sentence naming the flag. */
export function parseIntegerList(flag: string, value: string, min: number, max = 1_000_000): number[] {
    const items = value.split(",").map((item) => item.trim());
    return items.map((item) => {
        const parsed = Number(item);
        if (!/^\d+$/.test(item) || parsed < min || parsed > max) throw integerListError(flag, value, min, max);
        return parsed;
    });
}

/** The one sentence for a list that is not whole numbers within bounds. */
export function integerListError(flag: string, value: string, min: number, max = 1_000_000): UsageError {
    return new UsageError(`${flag} expects comma-separated whole numbers from ${min} to ${max}; got "${value}".`, {
        hint: `For example: ${flag} ${Math.max(min, 1)},${Math.max(min, 1) * 2}`
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

/** --pg as commander collects a repeatable flag: each value one more pair. */
export function promptGenPair(value: string, previous: [number, number][] | undefined): [number, number][] {
    return [...previous ?? [], ...parsePromptGenPairs([value])];
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

/** -o, or without it: llama-bench prints markdown; on a terminal a table with bars reads better. */
export function outputFormatFrom(value: OutputFormat | undefined): OutputFormat {
    return value ?? (process.stdout.isTTY === true ? "table" : "md");
}
