import type {BenchRow} from "../types.js";

/** llama-bench's test::get_fields(), in its order (llama.cpp as shipped with node-llama-cpp 3.21.1). */
export const llamaBenchFields = [
    "build_commit", "build_number", "cpu_info", "gpu_info", "backends",
    "model_filename", "model_type", "model_size", "model_n_params", "n_batch",
    "n_ubatch", "n_threads", "cpu_mask", "cpu_strict", "poll",
    "type_k", "type_v", "n_gpu_layers", "n_cpu_moe", "split_mode",
    "main_gpu", "no_kv_offload", "flash_attn", "devices", "tensor_split",
    "tensor_buft_overrides", "load_mode", "lazy_mode",
    "embeddings",
    "no_op_offload", "no_host", "fit_target", "fit_min_ctx",
    "n_prompt", "n_gen", "n_depth",
    "test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts"
] as const satisfies readonly (keyof BenchRow)[];

/** Our fields, written after llama-bench's (its tools drop keys they do not know). */
export function ourFields(withCompare: boolean): (keyof BenchRow)[] {
    return [
        "quant", "node_llama_cpp_version", "n_expert_used", "bandwidth_gbs", "roofline_ts", "roofline_pct", "e2e_ttft_ms", "e2e_ts",
        "busy_cores", "rerun_samples_ns", "high_spread",
        ...(withCompare ? ["compare_ratio" as const] : [])
    ];
}

type FieldType = "string" | "bool" | "int" | "float";

/** test::get_field_type(): decides how JSON writes a value (quoted, true/false, bare). */
export function llamaBenchFieldType(field: string): FieldType {
    switch (field) {
        case "build_number": case "n_batch": case "n_ubatch": case "n_threads": case "poll": case "model_size":
        case "model_n_params": case "n_gpu_layers": case "main_gpu": case "n_prompt": case "n_gen": case "n_depth":
        case "avg_ns": case "stddev_ns": case "no_op_offload": case "n_cpu_moe": case "fit_target": case "fit_min_ctx":
        case "flash_attn":
            return "int";
        case "no_kv_offload": case "cpu_strict": case "embeddings": case "no_host":
            return "bool";
        case "avg_ts": case "stddev_ts":
            return "float";
        default:
            return "string";
    }
}

/** The value as llama-bench's get_values() renders it (std::to_string: bools as 0/1, doubles %f). */
export function llamaBenchValueString(row: BenchRow, field: keyof BenchRow): string {
    const value = row[field];
    if (typeof value === "boolean") return value ? "1" : "0";
    if (llamaBenchFieldType(field) === "float" && typeof value === "number") return value.toFixed(6);
    if (value == null) return "";
    if (Array.isArray(value)) return value.map((item) => field === "samples_ts" ? formatG6(item) : String(item)).join(", ");
    if (typeof value === "number") return formatOurNumber(value);
    return String(value);
}

/** C++ ostream's default for doubles (%g, 6 significant digits), as llama-bench prints samples_ts. */
export function formatG6(value: number): string {
    if (!Number.isFinite(value)) return "0";
    if (value === 0) return "0";
    const exponent = Math.floor(Math.log10(Math.abs(value)));
    if (exponent < -4 || exponent >= 6) {
        const [mantissa = "0", power = "0"] = value.toExponential(5).split("e");
        const trimmed = mantissa.includes(".") ? mantissa.replace(/\.?0+$/, "") : mantissa;
        const sign = power.startsWith("-") ? "-" : "+";
        return `${trimmed}e${sign}${power.replace(/^[+-]/, "").padStart(2, "0")}`;
    }
    const fixed = value.toFixed(Math.max(0, 5 - exponent));
    return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}

/** Our own decimals: integers stay integers, the rest keep 4 decimals (a JSON number). */
export function formatOurNumber(value: number): string {
    if (Number.isInteger(value)) return String(value);
    return String(Number(value.toFixed(4)));
}
