import {pad, type Column} from "./columns.js";
import type {BenchPrinter, Paint} from "./types.js";

/** The terminal layout of any rows: bold titles over a rule, columns two spaces apart, a dim footer. */
export function plainTable<Row>(columns: Column<Row>[], footer: string, paint: Paint): BenchPrinter<Row> {
    const line = (cells: string[]) => cells.join("  ").trimEnd();
    return {
        header() {
            const titles = columns.map((column) => pad(column.title, column.width));
            return paint.bold(line(titles)) + "\n" + paint.dim(line(titles.map((title) => "─".repeat(title.length)))) + "\n";
        },
        row: (row) => line(columns.map((column) => pad(column.value(row), column.width))) + "\n",
        footer: () => paint.dim(`\n${footer}`) + "\n"
    };
}
