import type {BenchRow} from "../types.js";
import {columnsFor, highSpreadFootnote, pad} from "./columns.js";
import {noPaint, type BenchPrinter, type PrinterOptions} from "./types.js";

const barCells = 10;
const partialBlocks = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** A bar of `cells` characters filled to `fraction` (0–1), in eighths of a cell. */
export function bar(fraction: number, cells = barCells): string {
    const eighths = Math.round(Math.min(1, Math.max(0, fraction)) * cells * 8);
    const full = Math.floor(eighths / 8);
    const partial = partialBlocks[eighths % 8] ?? "";
    return ("█".repeat(full) + partial).padEnd(cells, " ");
}

/**
 * The terminal table: llama-bench's columns without the markdown pipes, and for tg rows a bar of
 * the measured tok/s against the roofline so quants compare at a glance.
 */
export function tablePrinter(options: PrinterOptions): BenchPrinter {
    const paint = options.paint ?? noPaint;
    const columns = columnsFor(options, {rooflineAsPercent: false});
    const ceilingWidth = barCells + 6;
    const withBar = options.showRoofline;
    const line = (cells: string[]) => cells.join("  ").trimEnd() + "\n";
    const printed: BenchRow[] = [];
    return {
        header() {
            const titles = columns.map((column) => pad(column.title, column.width));
            if (withBar) titles.push(pad("of roofline", -ceilingWidth));
            const rule = titles.map((title) => "─".repeat(title.length));
            return paint.bold(line(titles).trimEnd()) + "\n" + paint.dim(line(rule).trimEnd()) + "\n";
        },
        row(row) {
            printed.push(row);
            const cells = columns.map((column) => pad(column.value(row), column.width));
            if (withBar)
                cells.push(row.roofline_pct == null ? "" : `${paint.bar(bar(row.roofline_pct / 100))} ${`${row.roofline_pct.toFixed(0)}%`.padStart(4)}`);
            return line(cells);
        },
        footer: () => highSpreadFootnote(printed) + paint.dim(`\nbuild: ${options.buildCommit} (${options.buildNumber})`) + "\n"
    };
}
