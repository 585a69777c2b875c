import {csvPrinter, jsonlPrinter, jsonPrinter} from "./machinePrinters.js";
import {markdownPrinter} from "./markdownPrinter.js";
import {tablePrinter} from "./tablePrinter.js";
import type {BenchPrinter, OutputFormat, PrinterOptions} from "./types.js";

export function createPrinter(format: OutputFormat, options: PrinterOptions): BenchPrinter {
    switch (format) {
        case "table": return tablePrinter(options);
        case "md": return markdownPrinter(options);
        case "csv": return csvPrinter({withCompare: options.showCompare});
        case "json": return jsonPrinter({withCompare: options.showCompare});
        case "jsonl": return jsonlPrinter({withCompare: options.showCompare});
    }
}
