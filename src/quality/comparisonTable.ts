import type {Column} from "../bench/printers/columns.js";
import {markdownTable} from "../bench/printers/markdownPrinter.js";
import {plainTable} from "../bench/printers/plainTable.js";
import {noPaint, type BenchPrinter, type Paint} from "../bench/printers/types.js";

/** One model's line of `mixtral perplexity -m a,b,c`: its perplexity and, against a base file, how far it is from the base. */
export type ComparisonRow = {
    model: string,
    sizeBytes: number,
    ppl: number,
    pplSd: number | undefined,
    /** PPL(Q) − PPL(base) and mean KLD, same-top %: only against a base file. */
    pplDelta?: number,
    kldMean?: number,
    sameTopPct?: number,
    tokensPerSecond: number
};

const size = (bytes: number) => bytes < 1024 ** 3 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
const maybe = (value: number | undefined, text: (value: number) => string) => value == null ? "-" : text(value);

function columnsOf(withBase: boolean): Column<ComparisonRow>[] {
    const columns: Column<ComparisonRow>[] = [
        {title: "model", width: -30, value: (row) => row.model.length > 30 ? `…${row.model.slice(-29)}` : row.model},
        {title: "size", width: 10, value: (row) => size(row.sizeBytes)},
        {title: "PPL", width: 18, value: (row) => `${row.ppl.toFixed(4)}${row.pplSd == null ? "" : ` ± ${row.pplSd.toFixed(4)}`}`}
    ];
    if (withBase) columns.push(
        {title: "ΔPPL vs base", width: 12, value: (row) => maybe(row.pplDelta, (value) => `${value >= 0 ? "+" : ""}${value.toFixed(4)}`)},
        {title: "mean KLD", width: 9, value: (row) => maybe(row.kldMean, (value) => value.toFixed(6))},
        {title: "same top", width: 8, value: (row) => maybe(row.sameTopPct, (value) => `${value.toFixed(2)}%`)}
    );
    columns.push({title: "tok/s", width: 8, value: (row) => row.tokensPerSecond.toFixed(2)});
    return columns;
}

/** bench's table (on a terminal) and markdown (otherwise) layouts, for the comparison rows. */
export function comparisonPrinter(format: "table" | "md", {withBase, footer, paint = noPaint}: {withBase: boolean, footer: string, paint?: Paint}): BenchPrinter<ComparisonRow> {
    const columns = columnsOf(withBase);
    return format === "md" ? markdownTable(columns, `\n${footer}\n`) : plainTable(columns, footer, paint);
}
