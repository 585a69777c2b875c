/** Medians with their spread, and a plain aligned table, for the native benchmark's rounds. */
import {median} from "../../src/statistics.js";

export {median};

/** "61.2 [55.0–70.1]": the median of the rounds and the range they spread over. */
export function medianWithRange(values: readonly number[]): string {
    const finite = values.filter(Number.isFinite);
    if (finite.length === 0) return "-";
    return `${median(finite).toFixed(1)} [${Math.min(...finite).toFixed(1)}–${Math.max(...finite).toFixed(1)}]`;
}

export function ratio(ours: readonly number[], theirs: readonly number[]): string {
    const value = median(ours.filter(Number.isFinite)) / median(theirs.filter(Number.isFinite));
    return Number.isFinite(value) ? value.toFixed(2) : "-";
}

export function printTable(table: string[][]) {
    const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
    for (const [index, row] of table.entries()) {
        console.log(row.map((cell, column) => column < 1 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)).join("  "));
        if (index === 0) console.log(widths.map((width) => "-".repeat(width)).join("  "));
    }
}
