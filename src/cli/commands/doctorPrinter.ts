import {formatBytes} from "../../formatBytes.js";
import {formatMemory} from "../../hardware/byteSizes.js";
import {threadsFromMathCores} from "../../hardware/cpuCores.js";
import type {LoadVerdict} from "../../hardware/cpuLoad.js";
import type {PlanDecode} from "../../hardware/planDecode.js";
import type {Plan} from "../../hardware/planPlacement.js";
import type {HardwareProbe} from "../../hardware/types.js";
import type {KvCacheByUse, KvCacheChoice} from "../../hardware/kvCacheForUse.js";
import {kvCacheLabel} from "../../hardware/kvCacheTypes.js";
import {measureYourOwn, pplIncrease, publishedFor} from "../../quality/publishedQuality.js";
import {terminalPolicy} from "../ui/terminal.js";

/** Bytes a token reads under the plan, and the tok/s ceiling when a bandwidth is known. */
export type DecodeReport = PlanDecode & {
    /** The same plan at Mixtral's own 2 experts, to compare with (only when --experts differs). */
    fileDefault?: PlanDecode & {ceilingTokensPerSecond?: number},
    /** The roofline: bandwidth ÷ bytes a token, on an idle machine. */
    ceilingTokensPerSecond?: number,
    /** The ceiling times the CPU share the current load leaves the model (only when other work holds the cores). */
    underLoadTokensPerSecond?: number,
    /** unified: Apple silicon's one memory, whose figure serves both sides; ramMeasured: a read test just now. */
    bandwidth: {gpuGBs?: number, ramGBs?: number, gpuSource?: string, unified?: boolean, ramMeasured?: boolean}
};

export type DoctorReport = {
    probe: HardwareProbe,
    plan: Plan,
    /** The cache each command gets with the plan (the types by use, hardware/kvCacheForUse.ts). */
    kvByUse: KvCacheByUse,
    planDownloaded: boolean,
    hints: string[],
    decode?: DecodeReport,
    load?: LoadVerdict,
    knownLimits: string[]
};

export function doctorJson({probe, plan, kvByUse, planDownloaded, hints, decode, load, knownLimits}: DoctorReport) {
    return {
        simulated: probe.source === "simulated",
        backend: probe.backend,
        backends: probe.backends,
        nativeError: probe.nativeError ?? null,
        cpu: probe.cpu,
        ram: probe.ram,
        gpus: probe.gpus,
        nvidiaDriverPresent: probe.nvidiaDriverPresent,
        modelsDir: probe.modelsDir,
        diskFreeBytes: probe.diskFreeBytes,
        plan: {
            model: plan.model,
            quant: plan.quant,
            fileBytes: plan.fileBytes,
            downloaded: planDownloaded,
            gpuLayers: plan.gpuLayers,
            totalLayers: plan.totalLayers,
            contextSize: plan.contextSize,
            placement: plan.placement,
            flashAttention: plan.flashAttention,
            kvCacheType: plan.kvCacheType,
            kvCacheTypeK: plan.kvCacheTypeK,
            kvCacheTypeV: plan.kvCacheTypeV,
            kvBytesPerToken: plan.kvBytesPerToken,
            memory: plan.memory,
            reason: plan.reason,
            kvCacheByUse: {chat: kvJson(kvByUse.chat), serve: kvJson(kvByUse.serve), complete: {
                ...kvJson(kvByUse.complete), maxTokens: kvByUse.complete.maxTokens, q8UpToPromptTokens: kvByUse.complete.q8UpToPromptTokens
            }},
            decode: decode == null ? null : {
                expertsUsed: decode.expertsUsed,
                expertCount: decode.expertCount,
                bytesPerToken: Math.round(decode.bytesPerToken),
                gpuBytesPerToken: Math.round(decode.gpuBytesPerToken),
                ramBytesPerToken: Math.round(decode.ramBytesPerToken),
                gpuBandwidthGBs: decode.bandwidth.gpuGBs ?? null,
                ramBandwidthGBs: decode.bandwidth.ramGBs == null ? null : Math.round(decode.bandwidth.ramGBs * 10) / 10,
                ramBandwidthSource: decode.bandwidth.ramGBs == null ? null : decode.bandwidth.unified === true ? "unified" : "measured",
                // The roofline (bandwidth ÷ bytes a token): an estimate of the most decode can reach, not a measurement.
                ceilingTokensPerSecond: roundedTs(decode.ceilingTokensPerSecond),
                underLoadTokensPerSecond: roundedTs(decode.underLoadTokensPerSecond),
                fileDefault: decode.fileDefault == null ? null : {
                    expertsUsed: decode.fileDefault.expertsUsed,
                    bytesPerToken: Math.round(decode.fileDefault.bytesPerToken),
                    ceilingTokensPerSecond: roundedTs(decode.fileDefault.ceilingTokensPerSecond)
                }
            },
            // What the planned quant is published to cost in Wikitext perplexity against Q8_0, with sources.
            publishedQuality: plan.quant == null ? [] : publishedFor(plan.quant).map((figure) => ({...figure, increase: pplIncrease(figure)}))
        },
        load: load == null ? null : {
            oneMinute: round2(load.oneMinute), fifteenMinutes: round2(load.fifteenMinutes), cores: load.cores, threads: load.threads,
            shareForModel: round2(load.shareForModel), busy: load.busy
        },
        hints,
        knownLimits
    };
}

function kvJson(choice: KvCacheChoice) {
    return {kvCacheType: kvCacheLabel(choice.typeK, choice.typeV), kvCacheTypeK: choice.typeK, kvCacheTypeV: choice.typeV, flashAttention: choice.flashAttention, reason: choice.reason};
}

/** "chat, serve: q8_0, flash attention on (…)" and complete's line; one line when all three agree. */
function kvByUseLines({chat, serve, complete}: KvCacheByUse): string[] {
    const describe = (choice: KvCacheChoice) => `${kvCacheLabel(choice.typeK, choice.typeV)}, flash attention ${choice.flashAttention} (${choice.reason})`;
    const same = (a: KvCacheChoice, b: KvCacheChoice) => a.typeK === b.typeK && a.typeV === b.typeV && a.flashAttention === b.flashAttention;
    if (same(chat, serve) && same(chat, complete) && complete.q8UpToPromptTokens == null) return [`chat, serve, complete: ${describe(chat)}`];
    const conversations = same(chat, serve) ? [`chat, serve: ${describe(chat)}`] : [`chat: ${describe(chat)}`, `serve: ${describe(serve)}`];
    return [...conversations, `complete: ${describe(complete)}`];
}

function round2(value: number): number {
    return Math.round(value * 100) / 100;
}

function roundedTs(value: number | undefined): number | null {
    return value == null ? null : Math.round(value * 10) / 10;
}

export function renderDoctor({probe, plan, kvByUse, planDownloaded, hints, decode, load, knownLimits}: DoctorReport): string {
    const {colors} = terminalPolicy();
    const lines: string[] = [];
    const heading = (text: string) => lines.push(colors.bold(text));
    const row = (label: string, value: string) => lines.push(`  ${colors.dim(label.padEnd(10))} ${value}`);

    heading(probe.source === "simulated" ? "Hardware (simulated)" : "Hardware");
    row("backend", probe.backend + (probe.nativeError != null ? colors.red(" (native binding does not load)") : ""));
    for (const status of probe.backends)
        row("", `${status.loaded ? colors.green("✓") : colors.dim("·")} ${status.backend}${status.loaded ? " loads" : `: ${status.reason ?? "not available"}`}`);
    row("CPU", `${probe.cpu.model}, ${probe.cpu.cores} usable cores` +
        (probe.cpu.physicalCores != null ? ` (${probe.cpu.physicalCores} physical)` : "") +
        (probe.cpu.mathCores != null ? `, ${threadsFromMathCores(probe.cpu.cores, probe.cpu.mathCores)} threads by default` : ""));
    if (load != null) row("load", loadLine(load));
    row("RAM", `${formatMemory(probe.ram.totalBytes)} total, ${formatMemory(probe.ram.freeBytes)} free`);
    if (probe.gpus.length === 0) row("GPU", "none");
    for (const gpu of probe.gpus)
        row("GPU", `${gpu.name} (${gpu.type}), ${formatMemory(gpu.vramTotalBytes)} ${gpu.unifiedMemory ? "of unified memory for the GPU" : "VRAM"}, ` +
            `${formatMemory(gpu.vramFreeBytes)} free`);
    row("models", `${probe.modelsDir}` + (probe.diskFreeBytes != null ? ` (${formatBytes(probe.diskFreeBytes)} free)` : ""));

    lines.push("");
    heading("Plan");
    if (plan.model != null && plan.fileBytes != null) {
        row("model", `${plan.model} (${formatBytes(plan.fileBytes)}, ${planDownloaded ? "downloaded" : "not downloaded yet"})`);
        row("placement", `${plan.placement}: ${plan.gpuLayers} of ${plan.totalLayers} layers on the GPU`);
        row("context", `${plan.contextSize} tokens, ${plan.kvCacheType} KV cache (${formatMemory(plan.memory.kvCacheBytes)}), flash attention ${plan.flashAttention}`);
        row("memory", memoryLine(plan));
        kvByUseLines(kvByUse).forEach((line, index) => row(index === 0 ? "KV by use" : "", line));
        if (decode != null) {
            row("decode", decodeLine(decode));
            speedLines(decode, probe, load).forEach((line, index) => row(index === 0 ? "speed" : "", line));
        }
    } else row("model", colors.yellow("none fits"));
    row("why", plan.reason);
    if (plan.quant != null) {
        for (const figure of publishedFor(plan.quant))
            row("quality", `${figure.variant} ${figure.quant}: Wikitext PPL ${figure.ppl} vs Q8_0 ${figure.q8Ppl} (${pplIncrease(figure)}), ${figure.source}`);
        row("", colors.dim(measureYourOwn));
    }
    if (plan.model != null && probe.source === "probe" && probe.nativeError == null) {
        const experts = decode?.fileDefault == null ? "" : ` --experts ${decode.expertsUsed}`;
        row("run", `mixtral chat${experts}   (same as: mixtral chat --model ${plan.model} --gpu-layers ${plan.gpuLayers} --context-size ${plan.contextSize}${cacheFlags(plan)}${experts})`);
    }

    if (hints.length > 0) {
        lines.push("");
        heading("Hints");
        for (const hint of hints) lines.push(`  ${colors.yellow("!")} ${hint}`);
    }
    lines.push("");
    heading("Known limits");
    for (const limit of knownLimits) lines.push(`  - ${limit}`);
    return lines.join("\n") + "\n";
}

/** "reads ~4.0 GB of weights a token (1 of 8 experts; ~7.2 GB at Mixtral's 2)" */
function decodeLine(decode: DecodeReport): string {
    const other = decode.fileDefault;
    return `reads ~${formatBytes(decode.bytesPerToken)} of weights a token (${decode.expertsUsed} of ${decode.expertCount} experts` +
        (other == null ? "" : `; ~${formatBytes(other.bytesPerToken)} at Mixtral's ${other.expertsUsed}`) + ")";
}

/**
 * The speed expectation, said as what it is: "at most ~11.4 tok/s (~6.4 at 2): an estimate, 72 GB/s
 * RAM (a read test just now) ÷ the bytes a token reads", and what the current load leaves of it.
 */
function speedLines(decode: DecodeReport, probe: HardwareProbe, load: LoadVerdict | undefined): string[] {
    const other = decode.fileDefault;
    if (decode.ceilingTokensPerSecond == null) {
        const whose = probe.source === "simulated" ? "that machine's" : "this GPU's";
        return [`no estimate: ${whose} memory bandwidth is not known here; tok/s ≤ bandwidth ÷ the bytes a token reads (\`mixtral bench\` measures both where the model runs)`];
    }
    const {gpuGBs, ramGBs, gpuSource, unified, ramMeasured} = decode.bandwidth;
    const sources = [
        gpuGBs != null && (decode.gpuBytesPerToken > 0 || unified === true) ? `${gpuGBs} GB/s ${gpuSource ?? "GPU"} (data sheet)` : undefined,
        ramGBs != null && decode.ramBytesPerToken > 0 && unified !== true
            ? `${ramGBs.toFixed(0)} GB/s RAM${ramMeasured !== true ? "" : load?.busy === true ? " (a read test just now, under load: it may read low)" : " (a read test just now)"}` : undefined
    ].filter((source) => source != null);
    const lines = [`at most ~${decode.ceilingTokensPerSecond.toFixed(1)} tok/s` +
        (other?.ceilingTokensPerSecond == null ? "" : ` (~${other.ceilingTokensPerSecond.toFixed(1)} at ${other.expertsUsed})`) +
        `: an estimate, ${sources.join(" + ")} ÷ the bytes a token reads; real decode reaches part of it (\`mixtral bench\` measures it)`];
    if (decode.underLoadTokensPerSecond != null && load != null)
        lines.push(`~${decode.underLoadTokensPerSecond.toFixed(1)} tok/s at most while the current load lasts: it leaves the model's ` +
            `${load.threads} thread${load.threads === 1 ? "" : "s"} about ${Math.round(load.shareForModel * 100)} % of the CPU time`);
    return lines;
}

/** "4.1 over the last minute (3.0 over 15) on 2 cores: other work holds the cores" */
function loadLine(load: LoadVerdict): string {
    return `${load.oneMinute.toFixed(1)} over the last minute (${load.fifteenMinutes.toFixed(1)} over 15) on ${load.cores} core${load.cores === 1 ? "" : "s"}: ` +
        (load.busy ? "other work holds the cores" : "the cores are free enough");
}

function memoryLine(plan: Plan): string {
    const {gpuNeedBytes, gpuBudgetBytes, ramNeedBytes, ramBudgetBytes} = plan.memory;
    const ram = `RAM ~${formatMemory(ramNeedBytes)} of ${formatMemory(ramBudgetBytes)} usable`;
    return gpuBudgetBytes > 0 ? `GPU ~${formatMemory(gpuNeedBytes)} of ${formatMemory(gpuBudgetBytes)} usable, ${ram}` : ram;
}

/** The cache flags that reproduce the plan by hand; none for llama.cpp's defaults. */
function cacheFlags(plan: Plan): string {
    if (plan.kvCacheTypeK === "f16" && plan.kvCacheTypeV === "f16" && plan.flashAttention === "auto") return "";
    return ` --cache-type-k ${plan.kvCacheTypeK} --cache-type-v ${plan.kvCacheTypeV} --flash-attention ${plan.flashAttention}`;
}
