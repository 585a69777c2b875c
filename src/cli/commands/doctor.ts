import {probeBackends} from "../../engine/inspect.js";
import {skipBackendsProbe} from "../../hardware/types.js";
import {checkKvCacheSettings} from "../../hardware/kvCacheSettings.js";
import type {Backend} from "../../hardware/types.js";
import type {CacheType, FlashAttentionMode} from "../../hardware/kvCacheTypes.js";
import {adviseOnHardware, knownLimits} from "../../hardware/adviseOnHardware.js";
import {formatMemory} from "../../hardware/byteSizes.js";
import {planPlacement, type Plan} from "../../hardware/planPlacement.js";
import {probeHardware} from "../../hardware/probeHardware.js";
import {linuxLibc} from "../../hardware/probeSystem.js";
import {threadsFromMathCores} from "../../hardware/cpuCores.js";
import {simulateHardware} from "../../hardware/simulateHardware.js";
import type {HardwareProbe} from "../../hardware/types.js";
import {findCatalogEntry} from "../../models/resolveName.js";
import {loadCatalog} from "../../models/catalog.js";
import {assertKnownQuant} from "../../hardware/knownQuant.js";
import {diskMarginBytes} from "../../models/diskSpace.js";
import {formatBytes} from "../../formatBytes.js";
import {catalogFilePath, fileSize, storeDir} from "../../models/store.js";
import {measureYourOwn, pplIncrease, publishedFor} from "../../quality/publishedQuality.js";
import {startSpinner} from "../ui/spinner.js";
import {writeJson, writeOut} from "../ui/stdout.js";
import {terminalPolicy} from "../ui/terminal.js";
import {checkExpertsUsed} from "../../gguf/expertsUsed.js";
import {decodeCeilingTokensPerSecond, planDecode, type PlanDecode} from "../../hardware/planDecode.js";
import {mixtral8x7b, mixtralExpertsUsed} from "../../hardware/mixtralShape.js";
import {usableCpuCores} from "../../hardware/cpuCores.js";
import {knownBandwidthFor} from "../../bench/knownBandwidths.js";
import {measureMemoryBandwidth} from "../../bench/measureMemoryBandwidth.js";

export type DoctorOptions = {
    json?: boolean,
    /** With --vram/--ram: plan for this machine instead of the probed one; auto is the probed one (as with no --gpu). */
    gpu?: Backend | "auto",
    vram?: string,
    ram?: string,
    quant?: string,
    contextSize?: number,
    cacheTypeK?: CacheType,
    cacheTypeV?: CacheType,
    flashAttention?: FlashAttentionMode,
    gpuLayers?: number | "auto" | "max",
    /** --experts: plan decode with this many experts a token (Mixtral's own is 2 of 8). */
    experts?: number
};

/** Bytes a token reads under the plan, and the tok/s ceiling when a bandwidth is known. */
type DecodeReport = PlanDecode & {
    /** The same plan at Mixtral's own 2 experts, to compare with (only when --experts differs). */
    fileDefault?: PlanDecode & {ceilingTokensPerSecond?: number},
    ceilingTokensPerSecond?: number,
    /** unified: Apple silicon's one memory, whose figure serves both sides. */
    bandwidth: {gpuGBs?: number, ramGBs?: number, gpuSource?: string, unified?: boolean}
};

type Report = {
    probe: HardwareProbe,
    plan: Plan,
    planDownloaded: boolean,
    hints: string[],
    decode?: DecodeReport
};

export async function runDoctor(flags: DoctorOptions) {
    // --gpu auto, as every command takes it: this machine's backend, probed.
    const options = {...flags, gpu: flags.gpu === "auto" ? undefined : flags.gpu};
    checkKvCacheSettings({typeK: options.cacheTypeK, typeV: options.cacheTypeV, flashAttention: options.flashAttention});
    // Every catalog model is Mixtral 8x7B: the range is its, before anything is probed.
    checkExpertsUsed("Mixtral 8x7B", {expertCount: mixtral8x7b.expertCount, fileUsed: mixtralExpertsUsed}, options.experts);
    const simulating = options.gpu != null || options.vram != null || options.ram != null;
    const spinner = startSpinner(simulating ? "Planning…" : "Probing hardware…");
    let report: Report;
    try {
        report = await diagnose(options, simulating);
    } finally {
        spinner.stop();
    }
    if (options.json === true) writeJson(toJson(report));
    else writeOut(render(report));
}

async function diagnose(options: DoctorOptions & {gpu?: Backend}, simulating: boolean): Promise<Report> {
    const catalog = loadCatalog();
    assertKnownQuant(options.quant, catalog.models);
    // A simulated CUDA/Vulkan machine without --vram borrows this machine's GPU; otherwise the
    // native probe (a second or more) is not needed to answer "what would run there?".
    const needsNativeProbe = !simulating || (options.vram == null && (options.gpu === "cuda" || options.gpu === "vulkan"));
    const machine = await probeHardware({
        modelsDir: storeDir(),
        probeBackends: needsNativeProbe ? () => probeBackends() : skipBackendsProbe
    });
    const probe = simulating ? simulateHardware(options, machine) : machine;
    const plan = planPlacement({
        hardware: probe,
        catalog: catalog.models,
        quant: options.quant,
        gpuLayers: options.gpuLayers,
        contextSize: options.contextSize,
        cacheTypeK: options.cacheTypeK,
        cacheTypeV: options.cacheTypeV,
        flashAttention: options.flashAttention
    });
    const entry = plan.model == null ? undefined : findCatalogEntry(plan.model, catalog);
    const planDownloaded = entry != null && await fileSize(catalogFilePath(entry, probe.modelsDir)) != null;
    const decode = await decodeOf(plan, probe, options.experts);
    return {probe, plan, planDownloaded, hints: adviseOnHardware(probe, plan, {planDownloaded, diskMarginBytes, libc: () => linuxLibc()}), decode};
}

/**
 * The decode side of the plan: bytes a token reads with N experts, and the ceiling that follows
 * from the bandwidths known — a GPU's from its data sheet (bench/knownBandwidths.ts), the RAM's from
 * a short read test, run only when --experts asks for the effect on this machine.
 */
async function decodeOf(plan: Plan, probe: HardwareProbe, experts: number | undefined): Promise<DecodeReport | undefined> {
    if (plan.fileBytes == null) return undefined;
    const placed = {fileBytes: plan.fileBytes, gpuLayers: plan.gpuLayers};
    const decode = planDecode(placed, experts ?? mixtralExpertsUsed);
    const known = knownBandwidthFor(probe.gpus.map((gpu) => gpu.name));
    const unified = probe.gpus.some((gpu) => gpu.unifiedMemory);
    const bandwidth: DecodeReport["bandwidth"] = {};
    if (known != null) {
        bandwidth.gpuGBs = known.gbs;
        bandwidth.gpuSource = known.name;
        // One memory for both (Apple silicon): the CPU side reads at the same speed.
        if (unified) Object.assign(bandwidth, {ramGBs: known.gbs, unified: true});
    }
    if (bandwidth.ramGBs == null && decode.ramBytesPerToken > 0 && experts != null && probe.source === "probe")
        bandwidth.ramGBs = await measureMemoryBandwidth({threads: usableCpuCores()});
    const ceiling = (part: PlanDecode) => decodeCeilingTokensPerSecond(part, bandwidth);
    const report: DecodeReport = {...decode, ceilingTokensPerSecond: ceiling(decode), bandwidth};
    if (decode.expertsUsed !== mixtralExpertsUsed) {
        const fileDefault = planDecode(placed, mixtralExpertsUsed);
        report.fileDefault = {...fileDefault, ceilingTokensPerSecond: ceiling(fileDefault)};
    }
    return report;
}

function toJson({probe, plan, planDownloaded, hints, decode}: Report) {
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
            decode: decode == null ? null : {
                expertsUsed: decode.expertsUsed,
                expertCount: decode.expertCount,
                bytesPerToken: Math.round(decode.bytesPerToken),
                gpuBytesPerToken: Math.round(decode.gpuBytesPerToken),
                ramBytesPerToken: Math.round(decode.ramBytesPerToken),
                gpuBandwidthGBs: decode.bandwidth.gpuGBs ?? null,
                ramBandwidthGBs: decode.bandwidth.ramGBs == null ? null : Math.round(decode.bandwidth.ramGBs * 10) / 10,
                ceilingTokensPerSecond: roundedTs(decode.ceilingTokensPerSecond),
                fileDefault: decode.fileDefault == null ? null : {
                    expertsUsed: decode.fileDefault.expertsUsed,
                    bytesPerToken: Math.round(decode.fileDefault.bytesPerToken),
                    ceilingTokensPerSecond: roundedTs(decode.fileDefault.ceilingTokensPerSecond)
                }
            },
            // What the planned quant is published to cost in Wikitext perplexity against Q8_0, with sources.
            publishedQuality: plan.quant == null ? [] : publishedFor(plan.quant).map((figure) => ({...figure, increase: pplIncrease(figure)}))
        },
        hints,
        knownLimits
    };
}

function roundedTs(value: number | undefined): number | null {
    return value == null ? null : Math.round(value * 10) / 10;
}

function render({probe, plan, planDownloaded, hints, decode}: Report): string {
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
        if (decode != null) row("decode", decodeLine(decode));
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

/** "reads ~4.0 GB of weights a token (1 of 8 experts; ~7.2 GB at Mixtral's 2): at most ~11.4 tok/s (~6.4 at 2) from 46 GB/s RAM" */
function decodeLine(decode: DecodeReport): string {
    const experts = `${decode.expertsUsed} of ${decode.expertCount} experts`;
    const other = decode.fileDefault;
    let text = `reads ~${formatBytes(decode.bytesPerToken)} of weights a token (${experts}` +
        (other == null ? "" : `; ~${formatBytes(other.bytesPerToken)} at Mixtral's ${other.expertsUsed}`) + ")";
    if (decode.ceilingTokensPerSecond != null) {
        const {gpuGBs, ramGBs, gpuSource, unified} = decode.bandwidth;
        const sources = [
            gpuGBs != null && (decode.gpuBytesPerToken > 0 || unified === true) ? `${gpuGBs} GB/s ${gpuSource ?? "GPU"}` : undefined,
            ramGBs != null && decode.ramBytesPerToken > 0 && unified !== true ? `${ramGBs.toFixed(0)} GB/s RAM` : undefined
        ].filter((source) => source != null);
        text += `: at most ~${decode.ceilingTokensPerSecond.toFixed(1)} tok/s` +
            (other?.ceilingTokensPerSecond == null ? "" : ` (~${other.ceilingTokensPerSecond.toFixed(1)} at ${other.expertsUsed})`) +
            (sources.length > 0 ? ` from ${sources.join(" + ")}` : "");
    } else if (decode.expertsUsed !== mixtralExpertsUsed || decode.fileDefault != null)
        text += "; tok/s ceiling = memory bandwidth ÷ these bytes (`mixtral bench` measures both)";
    return text;
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
