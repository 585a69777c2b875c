import type {BenchRow} from "../types.js";
import {formatG6, formatOurNumber, llamaBenchFields, llamaBenchFieldType, llamaBenchValueString, ourFields} from "./llamaBenchFields.js";
import type {BenchPrinter} from "./types.js";

/**
 * The machine-readable printers write what llama-bench writes, byte for byte where the values
 * agree, so scripts/compare-llama-bench.py and anything else built for llama-bench reads them.
 */
function jsonValue(row: BenchRow, field: keyof BenchRow): string {
    const value = row[field];
    if (value === null || value === undefined) return "null";
    if (typeof value === "boolean") return value ? "true" : "false";
    if (typeof value === "string") return JSON.stringify(value);
    if (Array.isArray(value)) return value.length === 0 ? "[]" : `[ ${llamaBenchValueString(row, field)} ]`;
    const type = llamaBenchFieldType(field);
    if (type === "float") return value.toFixed(6);
    return formatOurNumber(value);
}

function samples(row: BenchRow) {
    return {ns: row.samples_ns.join(", "), ts: row.samples_ts.map(formatG6).join(", ")};
}

export function jsonPrinter({withCompare}: {withCompare: boolean}): BenchPrinter {
    let first = true;
    const extra = ourFields(withCompare);
    return {
        header: () => "[\n",
        row(row) {
            let text = first ? "" : ",\n";
            first = false;
            text += "  {\n";
            for (const field of llamaBenchFields) text += `    "${field}": ${jsonValue(row, field)},\n`;
            const {ns, ts} = samples(row);
            text += `    "samples_ns": [ ${ns} ],\n`;
            text += `    "samples_ts": [ ${ts} ]`;
            for (const field of extra) text += `,\n    "${field}": ${jsonValue(row, field)}`;
            return text + "\n  }";
        },
        footer: () => "\n]\n"
    };
}

export function jsonlPrinter({withCompare}: {withCompare: boolean}): BenchPrinter {
    const extra = ourFields(withCompare);
    return {
        header: () => "",
        row(row) {
            let text = "{";
            for (const field of llamaBenchFields) text += `"${field}": ${jsonValue(row, field)}, `;
            const {ns, ts} = samples(row);
            text += `"samples_ns": [ ${ns} ],"samples_ts": [ ${ts} ]`;
            for (const field of extra) text += `, "${field}": ${jsonValue(row, field)}`;
            return text + "}\n";
        },
        footer: () => ""
    };
}

/** llama-bench's escape_csv: every value quoted, quotes doubled. */
export function escapeCsv(value: string): string {
    return `"${value.replaceAll("\"", "\"\"")}"`;
}

export function csvPrinter({withCompare}: {withCompare: boolean}): BenchPrinter {
    const fields: (keyof BenchRow)[] = [...llamaBenchFields, "samples_ns", "samples_ts", ...ourFields(withCompare)];
    return {
        header: () => fields.join(",") + "\n",
        row: (row) => fields.map((field) => escapeCsv(llamaBenchValueString(row, field))).join(",") + "\n",
        footer: () => ""
    };
}
