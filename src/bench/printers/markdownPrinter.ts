import type {BenchRow} from "../types.js";
import {columnsFor, highSpreadFootnote, pad} from "./columns.js";
import type {BenchPrinter, PrinterOptions} from "./types.js";

/** llama-bench's default output: a GitHub markdown table, then the build it measured. */
export function markdownPrinter(options: PrinterOptions): BenchPrinter {
    const columns = columnsFor(options, {rooflineAsPercent: true});
    const printed: BenchRow[] = [];
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
        footer: () => `${highSpreadFootnote(printed)}\nbuild: ${options.buildCommit} (${options.buildNumber})\n`
    };
}
