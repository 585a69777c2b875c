import type {BenchRow} from "../types.js";
import {columnsFor, highSpreadFootnote, pad, type Column} from "./columns.js";
import type {BenchPrinter, PrinterOptions} from "./types.js";

/** llama-bench's default output: a GitHub markdown table, then the build it measured. */
export function markdownPrinter(options: PrinterOptions): BenchPrinter {
    return markdownTable(columnsFor(options, {rooflineAsPercent: true}),
        (rows: readonly BenchRow[]) => `${highSpreadFootnote(rows)}\nbuild: ${options.buildCommit} (${options.buildNumber})\n`);
}

/** A markdown table of any rows: llama-bench's layout (printf widths, right-aligned numbers); the footer sees the printed rows. */
export function markdownTable<Row>(columns: Column<Row>[], footer: string | ((rows: readonly Row[]) => string)): BenchPrinter<Row> {
    const printed: Row[] = [];
    return {
        header() {
            const titles = columns.map((column) => ` ${pad(column.title, column.width)} |`).join("");
            const rule = columns.map((column) => ` ${"-".repeat(Math.abs(column.width) - 1)}${column.width > 0 ? ":" : "-"} |`).join("");
            return `|${titles}\n|${rule}\n`;
        },
        row(row) {
            printed.push(row);
            return `|${columns.map((column) => ` ${pad(column.value(row), column.width)} |`).join("")}\n`;
        },
        footer: () => typeof footer === "string" ? footer : footer(printed)
    };
}
