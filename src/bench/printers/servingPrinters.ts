import type {ServingRow} from "../serving/types.js";
import type {Column} from "./columns.js";
import {escapeCsv} from "./machinePrinters.js";
import {markdownTable} from "./markdownPrinter.js";
import {plainTable} from "./plainTable.js";
import {noPaint, type BenchPrinter, type OutputFormat, type Paint} from "./types.js";


const fixed = (digits: number) => (value: number) => value.toFixed(digits);
const ms = fixed(1);

/** The serving benchmark's columns: what vLLM's benchmark_serving prints, one level a row. */
const columns: Column<ServingRow>[] = [
    {title: "model", width: -30, value: (row) => row.model.length > 30 ? `…${row.model.slice(-29)}` : row.model},
    {title: "conc", width: 4, value: (row) => String(row.concurrency)},
    {title: "requests", width: 8, value: (row) => row.failed > 0 ? `${row.completed}/${row.num_prompts}` : String(row.num_prompts)},
    {title: "in", width: 6, value: (row) => String(row.input_len)},
    {title: "out", width: 5, value: (row) => String(row.output_len)},
    {title: "req/s", width: 7, value: (row) => fixed(2)(row.request_throughput)},
    {title: "out tok/s", width: 9, value: (row) => fixed(2)(row.output_throughput)},
    {title: "ttft med ms", width: 11, value: (row) => ms(row.median_ttft_ms)},
    {title: "ttft p99 ms", width: 11, value: (row) => ms(row.p99_ttft_ms)},
    {title: "itl med ms", width: 10, value: (row) => ms(row.median_itl_ms)},
    {title: "itl p99 ms", width: 10, value: (row) => ms(row.p99_itl_ms)},
    {title: "tpot med ms", width: 11, value: (row) => ms(row.median_tpot_ms)}
];

/** Every field, in ServingRow's order (csv, json, jsonl). */
const fields: (keyof ServingRow)[] = [
    "endpoint", "model", "concurrency", "num_prompts", "completed", "failed", "input_len", "output_len", "duration_s",
    "total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput", "total_token_throughput",
    "mean_ttft_ms", "median_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "median_tpot_ms", "p99_tpot_ms",
    "mean_itl_ms", "median_itl_ms", "p99_itl_ms", "mean_e2el_ms", "test_time"
];

function jsonObject(row: ServingRow, indent: string, separator: string): string {
    return fields.map((field) => `${indent}"${field}": ${JSON.stringify(row[field])}`).join(separator);
}

/** bench's printers (table, md, csv, json, jsonl) for the serving rows. */
export function createServingPrinter(format: OutputFormat, {endpoint, paint = noPaint}: {endpoint: string, paint?: Paint}): BenchPrinter<ServingRow> {
    switch (format) {
        case "md":
            return markdownTable(columns, `\nendpoint: ${endpoint}\n`);
        case "table":
            return plainTable(columns, `endpoint: ${endpoint}`, paint);
        case "csv":
            return {
                header: () => fields.join(",") + "\n",
                row: (row) => fields.map((field) => escapeCsv(String(row[field]))).join(",") + "\n",
                footer: () => ""
            };
        case "json": {
            let first = true;
            return {
                header: () => "[\n",
                row(row) {
                    const text = `${first ? "" : ",\n"}  {\n${jsonObject(row, "    ", ",\n")}\n  }`;
                    first = false;
                    return text;
                },
                footer: () => "\n]\n"
            };
        }
        case "jsonl":
            return {header: () => "", row: (row) => `{${jsonObject(row, "", ", ")}}\n`, footer: () => ""};
    }
}
