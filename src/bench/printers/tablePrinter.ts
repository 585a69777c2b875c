import type {BenchRow} from "../types.js";
import {columnsFor, highSpreadFootnote, pad, type Column} from "./columns.js";
import {noPaint, type BenchPrinter, type PrinterOptions} from "./types.js";

const partialBlocks = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** A bar of `cells` characters filled to `fraction` (0–1), in eighths of a cell. */
export function bar(fraction: number, cells = 10): string {
    const eighths = Math.round(Math.min(1, Math.max(0, fraction)) * cells * 8);
    const full = Math.floor(eighths / 8);
    const partial = partialBlocks[eighths % 8] ?? "";
    return ("█".repeat(full) + partial).padEnd(cells, " ");
}

/** Where the width is not known (output that is not a terminal): a width that wraps nowhere. */
export const defaultTableWidth = 100;
const gap = 2;
/** The roofline column: a bar of `cells` then " 100%", or with 0 cells the percentage alone. */
const barTitle = (cells: number) => cells > 0 ? "of roofline" : "% roof";
const barColumnWidth = (cells: number) => Math.max(barTitle(cells).length, cells > 0 ? cells + 5 : 4);

/** barCells: 0 is the percentage without a bar; no roofline column at all when the run has no tg test. */
type Layout = {columns: Column[], showRoof: boolean, barCells: number, dropped: string[]};

/**
 * The columns that fit `maxWidth`: llama-bench's set at fitted widths; when that is too wide, the
 * columns said elsewhere go first (backend: one for the run, said in the footer), the bar narrows,
 * size and params go (the model label names the size), the bar leaves its percentage alone, and
 * last the model label is cut. What still does not
 * fit (many varying settings on a narrow terminal) is printed whole rather than cut.
 */
export function fitTable(options: PrinterOptions, maxWidth = options.maxWidth ?? defaultTableWidth): Layout {
    let columns = columnsFor(options, {rooflineAsPercent: false, compact: true});
    const showRoof = options.showRoofline;
    let barCells = 10;
    const dropped: string[] = [];
    const width = () => columns.reduce((sum, column) => sum + Math.abs(column.width), 0) + gap * (columns.length - 1) +
        (showRoof ? gap + barColumnWidth(barCells) : 0);
    const steps: (() => void)[] = [
        () => drop("backend"),
        () => void (barCells = Math.min(barCells, 6)),
        () => drop("size"),
        () => drop("params"),
        () => void (barCells = 0),
        () => narrow("model", 16),
        () => narrow("model", 12)
    ];
    function drop(title: string) {
        if (!columns.some((column) => column.title === title && column.droppable === true)) return;
        columns = columns.filter((column) => column.title !== title);
        dropped.push(title);
    }
    function narrow(title: string, to: number) {
        columns = columns.map((column) => column.title === title ? {...column, width: -to} : column);
    }
    for (const step of steps) {
        if (width() <= maxWidth) break;
        step();
    }
    return {columns, showRoof, barCells, dropped};
}

/** The model label is cut to its column with an ellipsis ("llama 8x7B Q4_K - M…"); a number is never cut, it overflows. */
function fitCell(column: Column, row: BenchRow): string {
    const text = column.value(row);
    const room = Math.abs(column.width);
    return column.title === "model" && text.length > room ? `${text.slice(0, room - 1)}…` : pad(text, column.width);
}

/** Prose under the table broken at spaces to the table's width, so a terminal does not cut words. */
export function wrapLines(text: string, width: number): string {
    return text.split("\n").map((line) => {
        const lines: string[] = [];
        let current = "";
        for (const word of line.split(" ")) {
            if (current !== "" && current.length + 1 + word.length > width) {
                lines.push(current);
                current = word;
            } else current = current === "" ? word : `${current} ${word}`;
        }
        lines.push(current);
        return lines.join("\n");
    }).join("\n");
}

/**
 * The terminal table: llama-bench's columns without the markdown pipes, fitted to the terminal,
 * and for tg rows a bar of the measured tok/s against the roofline so quants compare at a glance.
 */
export function tablePrinter(options: PrinterOptions): BenchPrinter {
    const paint = options.paint ?? noPaint;
    const maxWidth = options.maxWidth ?? defaultTableWidth;
    const {columns, showRoof, barCells, dropped} = fitTable(options, maxWidth);
    const line = (cells: string[]) => cells.join(" ".repeat(gap)).trimEnd() + "\n";
    const printed: BenchRow[] = [];
    const backend = dropped.includes("backend") ? `backend: ${options.backends} · ` : "";
    return {
        header() {
            const titles = columns.map((column) => pad(column.title, column.width));
            if (showRoof) titles.push(pad(barTitle(barCells), barCells > 0 ? -barColumnWidth(barCells) : barColumnWidth(barCells)));
            const rule = titles.map((title) => "─".repeat(title.length));
            return paint.bold(line(titles).trimEnd()) + "\n" + paint.dim(line(rule).trimEnd()) + "\n";
        },
        row(row) {
            printed.push(row);
            const cells = columns.map((column) => fitCell(column, row));
            if (showRoof) {
                const percent = row.roofline_pct == null ? "" : `${row.roofline_pct.toFixed(0)}%`.padStart(barCells > 0 ? 4 : barColumnWidth(0));
                cells.push(row.roofline_pct == null || barCells === 0 ? percent : `${paint.bar(bar(row.roofline_pct / 100, barCells))} ${percent}`);
            }
            return line(cells);
        },
        footer: () => wrapLines(highSpreadFootnote(printed), maxWidth) + paint.dim(`\n${backend}build: ${options.buildCommit} (${options.buildNumber})`) + "\n"
    };
}
