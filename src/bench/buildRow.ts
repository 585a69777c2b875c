import {mean} from "../statistics.js";
import {quantOf} from "../gguf/quantOf.js";
import {summarize} from "./statistics.js";
import {hasHighSpread} from "./unsteadySamples.js";
import type {BenchInstance, BenchModelInfo, BenchRow, BenchSystemInfo, InstanceTimings} from "./types.js";

/**
 * Turns one instance's samples into a row with every field llama-bench writes. Settings this tool
 * does not vary carry llama-bench's defaults (cpu_mask 0x0, poll 50, f16 K/V cache, layer split …),
 * which are also what node-llama-cpp's context uses.
 */
export function buildRow(
    instance: BenchInstance,
    model: BenchModelInfo,
    system: BenchSystemInfo,
    timings: InstanceTimings,
    {testTime, bandwidthGBs, rooflineTs, busyCores}: {testTime: Date, bandwidthGBs?: number, rooflineTs?: number, busyCores?: number}
): BenchRow {
    const summary = summarize(timings.samplesNs, instance.nPrompt + instance.nGen);
    const roofline = rooflineTs != null && rooflineTs > 0 ? rooflineTs : null;
    return {
        build_commit: system.buildCommit,
        build_number: system.buildNumber,
        cpu_info: system.cpuInfo,
        gpu_info: system.gpuInfo,
        backends: system.backends,
        model_filename: instance.model,
        model_type: model.typeDescription,
        model_size: model.size,
        model_n_params: model.parameters,
        // node-llama-cpp queues batches itself and gives llama.cpp n_ubatch = n_batch.
        n_batch: instance.batchSize,
        n_ubatch: instance.batchSize,
        n_threads: instance.threads,
        cpu_mask: "0x0",
        cpu_strict: false,
        poll: 50,
        type_k: instance.typeK,
        type_v: instance.typeV,
        n_gpu_layers: model.gpuLayers,
        n_cpu_moe: 0,
        split_mode: "layer",
        main_gpu: 0,
        no_kv_offload: false,
        // llama_flash_attn_type: -1 auto, 0 disabled, 1 enabled.
        flash_attn: instance.flashAttention === "auto" ? -1 : instance.flashAttention === "on" ? 1 : 0,
        devices: "auto",
        tensor_split: "0.00",
        tensor_buft_overrides: "none",
        load_mode: "auto",
        lazy_mode: "auto",
        embeddings: false,
        no_op_offload: 0,
        no_host: false,
        fit_target: 0,
        fit_min_ctx: 0,
        n_prompt: instance.nPrompt,
        n_gen: instance.nGen,
        n_depth: instance.nDepth,
        n_expert_used: model.expertUsedCount,
        // RFC 3339 in UTC without fractions, as llama-bench's strftime("%FT%TZ").
        test_time: testTime.toISOString().replace(/\.\d{3}Z$/, "Z"),
        avg_ns: summary.avgNs,
        stddev_ns: summary.stddevNs,
        avg_ts: summary.avgTs,
        stddev_ts: summary.stddevTs,
        samples_ns: [...timings.samplesNs],
        samples_ts: summary.samplesTs,
        quant: quantOf(model.typeDescription),
        node_llama_cpp_version: system.nodeLlamaCppVersion,
        bandwidth_gbs: roofline != null && bandwidthGBs != null ? bandwidthGBs : null,
        roofline_ts: roofline,
        roofline_pct: roofline != null ? 100 * summary.avgTs / roofline : null,
        e2e_ttft_ms: timings.e2e != null && timings.e2e.length > 0 ? mean(timings.e2e.map((sample) => sample.firstTokenMs)) : null,
        e2e_ts: timings.e2e != null && timings.e2e.length > 0 ? mean(timings.e2e.map((sample) => sample.tokensPerSecond)) : null,
        rerun_samples_ns: [...timings.rerunSamplesNs ?? []],
        high_spread: hasHighSpread(timings.samplesNs),
        busy_cores: busyCores != null && Number.isFinite(busyCores) ? Math.round(Math.max(0, busyCores) * 100) / 100 : null
    };
}

/** llama-bench's test name: pp512, tg128, pp512+tg128, with " @ d4096" at a depth. */
export function testName(row: Pick<BenchRow, "n_prompt" | "n_gen" | "n_depth">): string {
    let name = row.n_prompt > 0 && row.n_gen === 0 ? `pp${row.n_prompt}`
        : row.n_gen > 0 && row.n_prompt === 0 ? `tg${row.n_gen}`
            : `pp${row.n_prompt}+tg${row.n_gen}`;
    if (row.n_depth > 0) name += ` @ d${row.n_depth}`;
    return name;
}
