import {probeBackends} from "../../engine/inspect.js";
import {skipBackendsProbe, type Backend, type HardwareProbe} from "../../hardware/types.js";
import {checkKvCacheSettings, kvCacheFrom} from "../../hardware/kvCacheSettings.js";
import {kvCacheByUse} from "../../hardware/kvCacheForUse.js";
import {plannedKvCache} from "../../hardware/planDefaultModel.js";
import {maxTokensDefaults} from "../../generator/sampling.js";
import type {CacheType, FlashAttentionMode} from "../../hardware/kvCacheTypes.js";
import {adviseOnHardware, knownLimits} from "../../hardware/adviseOnHardware.js";
import {planPlacement, type Plan} from "../../hardware/planPlacement.js";
import {probeHardware} from "../../hardware/probeHardware.js";
import {linuxLibc} from "../../hardware/probeSystem.js";
import {defaultThreadCount, threadsFromMathCores} from "../../hardware/cpuCores.js";
import {loadVerdict, type LoadVerdict} from "../../hardware/cpuLoad.js";
import {simulateHardware} from "../../hardware/simulateHardware.js";
import {findCatalogEntry} from "../../models/resolveName.js";
import {loadCatalog} from "../../models/catalog.js";
import {assertKnownQuant} from "../../hardware/knownQuant.js";
import {diskMarginBytes} from "../../models/diskSpace.js";
import {catalogFilePath, fileSize, storeDir} from "../../models/store.js";
import {startSpinner} from "../ui/spinner.js";
import {writeJson, writeOut} from "../ui/stdout.js";
import {checkExpertsUsed} from "../../gguf/expertsUsed.js";
import {decodeCeilingTokensPerSecond, planDecode, type PlanDecode} from "../../hardware/planDecode.js";
import {mixtral8x7b, mixtralExpertsUsed} from "../../hardware/mixtralShape.js";
import {knownBandwidthFor} from "../../bench/knownBandwidths.js";
import {measureMemoryBandwidth} from "../../bench/measureMemoryBandwidth.js";
import {doctorJson, renderDoctor, type DecodeReport, type DoctorReport} from "./doctorPrinter.js";

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

export async function runDoctor(flags: DoctorOptions) {
    // --gpu auto, as every command takes it: this machine's backend, probed.
    const options = {...flags, gpu: flags.gpu === "auto" ? undefined : flags.gpu};
    checkKvCacheSettings({typeK: options.cacheTypeK, typeV: options.cacheTypeV, flashAttention: options.flashAttention});
    // Every catalog model is Mixtral 8x7B: the range is its, before anything is probed.
    checkExpertsUsed("Mixtral 8x7B", {expertCount: mixtral8x7b.expertCount, fileUsed: mixtralExpertsUsed}, options.experts);
    const simulating = options.gpu != null || options.vram != null || options.ram != null;
    const spinner = startSpinner(simulating ? "Planning…" : "Probing hardware…");
    let report: DoctorReport;
    try {
        report = await diagnose(options, simulating, () => {
            spinner.text = "Measuring memory bandwidth…";
        });
    } finally {
        spinner.stop();
    }
    if (options.json === true) writeJson(doctorJson(report));
    else writeOut(renderDoctor(report));
}

async function diagnose(options: DoctorOptions & {gpu?: Backend}, simulating: boolean, onMeasure: () => void): Promise<DoctorReport> {
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
    const load = probe.load == null ? undefined : loadVerdict(probe.load, probe.cpu.cores, defaultThreads(probe));
    const decode = await decodeOf(plan, probe, options.experts, load, onMeasure);
    const hints = adviseOnHardware(probe, plan, {planDownloaded, diskMarginBytes, libc: () => linuxLibc(), load});
    const kvByUse = kvCacheByUse({
        backend: probe.backend,
        given: kvCacheFrom(options, plannedKvCache(plan, options)),
        headSizes: {k: mixtral8x7b.headDim, v: mixtral8x7b.headDim}
    }, maxTokensDefaults.complete);
    return {probe, plan, kvByUse, planDownloaded, hints, decode, load, knownLimits: knownLimits(probe, plan)};
}

/**
 * The decode side of the plan: bytes a token reads with N experts, and the tok/s ceiling (the
 * roofline: bandwidth ÷ bytes) that follows from the bandwidths known — a GPU's from its data sheet
 * (bench/knownBandwidths.ts), the RAM's from a short read test here (bench/measureMemoryBandwidth.ts)
 * when layers run on this machine's CPU. A simulated machine's RAM is not this one's: no test then.
 */
async function decodeOf(plan: Plan, probe: HardwareProbe, experts: number | undefined, load: LoadVerdict | undefined,
    onMeasure: () => void): Promise<DecodeReport | undefined> {
    let measuredRamGBs: number | undefined;
    if (needsRamBandwidthTest(plan, probe)) {
        onMeasure();
        measuredRamGBs = await measureMemoryBandwidth({threads: probe.cpu.cores});
    }
    return decodeReportOf(plan, probe, {experts, measuredRamGBs, load});
}

/**
 * A read test only where it decides the figure: this machine, layers on its CPU, and no unified
 * memory whose data sheet already says. With every layer on the GPU the RAM reads one embedding row a token.
 */
export function needsRamBandwidthTest(plan: Plan, probe: HardwareProbe): boolean {
    const unifiedKnown = probe.gpus.some((gpu) => gpu.unifiedMemory) && knownBandwidthFor(probe.gpus.map((gpu) => gpu.name)) != null;
    return probe.source === "probe" && plan.fileBytes != null && plan.placement !== "gpu" && !unifiedKnown;
}

/** The decode report from the bandwidths known: pure, so a machine can be described in a test. */
export function decodeReportOf(plan: Plan, probe: HardwareProbe,
    facts: {experts?: number, measuredRamGBs?: number, load?: LoadVerdict}): DecodeReport | undefined {
    if (plan.fileBytes == null) return undefined;
    const placed = {fileBytes: plan.fileBytes, gpuLayers: plan.gpuLayers};
    const decode = planDecode(placed, facts.experts ?? mixtralExpertsUsed);
    const known = knownBandwidthFor(probe.gpus.map((gpu) => gpu.name));
    const bandwidth: DecodeReport["bandwidth"] = {};
    if (known != null) {
        bandwidth.gpuGBs = known.gbs;
        bandwidth.gpuSource = known.name;
        // One memory for both (Apple silicon): the CPU side reads at the same speed.
        if (probe.gpus.some((gpu) => gpu.unifiedMemory)) Object.assign(bandwidth, {ramGBs: known.gbs, unified: true});
    }
    if (bandwidth.ramGBs == null && facts.measuredRamGBs != null) Object.assign(bandwidth, {ramGBs: facts.measuredRamGBs, ramMeasured: true});
    const ceiling = (part: PlanDecode) => decodeCeilingTokensPerSecond(part, bandwidth);
    const report: DecodeReport = {...decode, ceilingTokensPerSecond: ceiling(decode), bandwidth};
    // CPU layers take turns with the other work; a GPU's decode hardly notices it.
    if (facts.load?.busy === true && plan.placement !== "gpu" && report.ceilingTokensPerSecond != null)
        report.underLoadTokensPerSecond = report.ceilingTokensPerSecond * facts.load.shareForModel;
    if (decode.expertsUsed !== mixtralExpertsUsed) {
        const fileDefault = planDecode(placed, mixtralExpertsUsed);
        report.fileDefault = {...fileDefault, ceilingTokensPerSecond: ceiling(fileDefault)};
    }
    return report;
}

/** The threads a model would run with here (--threads aside): llama.cpp's math cores, MIXTRAL_THREADS, else the usable cores. */
function defaultThreads(probe: HardwareProbe): number {
    return probe.cpu.mathCores != null ? threadsFromMathCores(probe.cpu.cores, probe.cpu.mathCores) : defaultThreadCount(process.env, () => probe.cpu.cores);
}
