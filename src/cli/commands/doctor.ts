import {probeBackends} from "../../engine/inspect.js";
import {skipBackendsProbe} from "../../hardware/types.js";
import {checkKvCacheSettings} from "../../hardware/kvCacheSettings.js";
import type {Backend} from "../../hardware/types.js";
import type {CacheType, FlashAttentionMode} from "../../hardware/kvCacheTypes.js";
import {adviseOnHardware, knownLimits} from "../../hardware/adviseOnHardware.js";
import {formatMemory} from "../../hardware/byteSizes.js";
import {planPlacement, type Plan} from "../../hardware/planPlacement.js";
import {probeHardware} from "../../hardware/probeHardware.js";
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

export type DoctorOptions = {
    json?: boolean,
    /** With --vram/--ram: plan for this machine instead of the probed one. */
    gpu?: Backend,
    vram?: string,
    ram?: string,
    quant?: string,
    contextSize?: number,
    cacheTypeK?: CacheType,
    cacheTypeV?: CacheType,
    flashAttention?: FlashAttentionMode,
    gpuLayers?: number | "auto" | "max"
};

type Report = {
    probe: HardwareProbe,
    plan: Plan,
    planDownloaded: boolean,
    hints: string[]
};

export async function runDoctor(options: DoctorOptions) {
    checkKvCacheSettings({typeK: options.cacheTypeK, typeV: options.cacheTypeV, flashAttention: options.flashAttention});
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

async function diagnose(options: DoctorOptions, simulating: boolean): Promise<Report> {
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
    return {probe, plan, planDownloaded, hints: adviseOnHardware(probe, plan, {planDownloaded, diskMarginBytes})};
}

function toJson({probe, plan, planDownloaded, hints}: Report) {
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
            // What the planned quant is published to cost in Wikitext perplexity against Q8_0, with sources.
            publishedQuality: plan.quant == null ? [] : publishedFor(plan.quant).map((figure) => ({...figure, increase: pplIncrease(figure)}))
        },
        hints,
        knownLimits
    };
}

function render({probe, plan, planDownloaded, hints}: Report): string {
    const {colors} = terminalPolicy();
    const lines: string[] = [];
    const heading = (text: string) => lines.push(colors.bold(text));
    const row = (label: string, value: string) => lines.push(`  ${colors.dim(label.padEnd(10))} ${value}`);

    heading(probe.source === "simulated" ? "Hardware (simulated)" : "Hardware");
    row("backend", probe.backend + (probe.nativeError != null ? colors.red(" (native binding does not load)") : ""));
    for (const status of probe.backends)
        row("", `${status.loaded ? colors.green("✓") : colors.dim("·")} ${status.backend}${status.loaded ? " loads" : `: ${status.reason ?? "not available"}`}`);
    row("CPU", `${probe.cpu.model}, ${probe.cpu.cores} usable cores` +
        (probe.cpu.physicalCores != null ? ` (${probe.cpu.physicalCores} physical)` : ""));
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
    } else row("model", colors.yellow("none fits"));
    row("why", plan.reason);
    if (plan.quant != null) {
        for (const figure of publishedFor(plan.quant))
            row("quality", `${figure.variant} ${figure.quant}: Wikitext PPL ${figure.ppl} vs Q8_0 ${figure.q8Ppl} (${pplIncrease(figure)}), ${figure.source}`);
        row("", colors.dim(measureYourOwn));
    }
    if (plan.model != null && probe.source === "probe" && probe.nativeError == null) row("run", `mixtral chat   (same as: mixtral chat --model ${plan.model} --gpu-layers ${plan.gpuLayers} --context-size ${plan.contextSize}${cacheFlags(plan)})`);

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
