import {quantOf} from "../../gguf/quantOf.js";
import {testName} from "../buildRow.js";
import type {BenchRow} from "../types.js";
import {highSpreadFraction} from "../unsteadySamples.js";
import type {PrinterOptions} from "./types.js";

/**
 * A column of the human-readable printers: width as printf's (negative pads on the right); the
 * terminal table may drop a column with `droppable` (what it says is said elsewhere) when space is short.
 */
export type Column<Row = BenchRow> = {title: string, width: number, value(row: Row): string, droppable?: boolean};

/** llama-bench's size column: MiB under 1 GiB, GiB above. */
function formatModelSize(bytes: number): string {
    return bytes < 1024 ** 3 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** llama-bench's params column: millions under a billion, billions above. */
function formatParameters(count: number): string {
    return count < 1e9 ? `${(count / 1e6).toFixed(2)} M` : `${(count / 1e9).toFixed(2)} B`;
}

const dash = "-";

/**
 * The model as the human-readable tables name it: llama.cpp's description with the quant as files
 * name it ("llama 8x7B Q4_K - Medium" → "llama 8x7B Q4_K_M"), and the size it calls "?B" (a shape
 * it has no name for, as random-weight test files) replaced by the file's parameter count, the way
 * its known sizes read: "llama ?B Q4_0" → "llama 212M Q4_0".
 */
export function modelLabel(row: Pick<BenchRow, "model_type" | "model_n_params">): string {
    const [architecture, size] = row.model_type.split(" ");
    if (architecture == null || size == null) return row.model_type;
    return `${architecture} ${size === "?B" ? parameterLabel(row.model_n_params) : size} ${quantOf(row.model_type)}`;
}

/** llama-bench's own model column ("llama 8x7B Q4_K - Medium"), but with a size for "?B" as above. */
function llamaBenchModel(row: Pick<BenchRow, "model_type" | "model_n_params">): string {
    return row.model_type.replace("?B", parameterLabel(row.model_n_params));
}

function parameterLabel(count: number): string {
    if (count >= 1e9) return `${Number((count / 1e9).toFixed(1))}B`;
    if (count >= 1e6) return `${Math.round(count / 1e6)}M`;
    return `${Math.max(1, Math.round(count / 1e3))}K`;
}

/** Marks a t/s figure whose repetitions disagree too much to be read as steady (see unsteadySamples.ts). */
export const highSpreadMark = "!";

/** The footnote under a table that has marked rows. */
export function highSpreadFootnote(rows: readonly BenchRow[]): string {
    const marked = rows.filter((row) => row.high_spread).length;
    if (marked === 0) return "";
    return `\n${highSpreadMark} ${marked === 1 ? "this row's" : `these ${marked} rows'`} repetitions spread by more than ${highSpreadFraction * 100}% ` +
        "of the mean (a busy machine, or ggml's per-token threads collapsing): not a steady figure; run again or with more -r.\n";
}

/**
 * The columns llama-bench's markdown printer shows (model, size, params, backend, the settings that
 * vary, test, t/s), then ours: the roofline, end-to-end timings and the ratio to a previous run.
 */
export function columnsFor(options: PrinterOptions, {rooflineAsPercent, compact = false}: {rooflineAsPercent: boolean, compact?: boolean}): Column[] {
    // compact: the terminal table's widths, fitted to what the values need rather than to llama-bench's printf.
    const width = (llamaBench: number, fitted: number) => compact ? fitted : llamaBench;
    const columns: Column[] = [
        {title: "model", width: width(-30, -20), value: compact ? modelLabel : llamaBenchModel},
        {title: "size", width: 10, value: (row) => formatModelSize(row.model_size), droppable: true},
        {title: "params", width: width(10, 8), value: (row) => formatParameters(row.model_n_params), droppable: true},
        // One backend for the whole run: the terminal table can say it once, in its footer.
        {title: "backend", width: width(-10, -7), value: (row) => row.backends, droppable: true}
    ];
    if (options.showGpuLayers) columns.push({title: "ngl", width: 3, value: (row) => String(row.n_gpu_layers)});
    if (options.showThreads) columns.push({title: "threads", width: 7, value: (row) => String(row.n_threads)});
    if (options.showBatch) columns.push({title: "n_batch", width: 7, value: (row) => String(row.n_batch)});
    if (options.showTypeK === true) columns.push({title: "type_k", width: 6, value: (row) => row.type_k});
    if (options.showTypeV === true) columns.push({title: "type_v", width: 6, value: (row) => row.type_v});
    if (options.showFlashAttention) columns.push({title: "fa", width: 3, value: (row) => String(row.flash_attn)});
    if (options.showExperts === true) columns.push({title: "experts", width: 7, value: (row) => String(row.n_expert_used)});
    columns.push(
        {title: "test", width: width(15, Math.max(4, options.testWidth ?? 11)), value: testName},
        {title: "t/s", width: width(20, 20), value: (row) => `${row.avg_ts.toFixed(2)} ± ${row.stddev_ts.toFixed(2)}${row.high_spread ? ` ${highSpreadMark}` : ""}`}
    );
    if (options.showRoofline) {
        columns.push({title: "roofline", width: width(10, 8), value: (row) => row.roofline_ts == null ? dash : row.roofline_ts.toFixed(2)});
        if (rooflineAsPercent)
            columns.push({title: "% roof", width: 6, value: (row) => row.roofline_pct == null ? dash : `${row.roofline_pct.toFixed(0)}%`});
    }
    if (options.showE2e)
        columns.push(
            {title: "ttft ms", width: 8, value: (row) => row.e2e_ttft_ms == null ? dash : row.e2e_ttft_ms.toFixed(1)},
            {title: "e2e t/s", width: 8, value: (row) => row.e2e_ts == null ? dash : row.e2e_ts.toFixed(2)}
        );
    if (options.showCompare)
        columns.push({title: "vs prev", width: 7, value: (row) => row.compare_ratio == null ? dash : `${row.compare_ratio.toFixed(2)}x`});
    return columns;
}

export function pad(text: string, width: number): string {
    return width < 0 ? text.padEnd(-width) : text.padStart(width);
}
