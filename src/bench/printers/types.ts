import type {BenchRow} from "../types.js";

/** llama-bench's printer interface: a header once, a row per finished test, a footer at the end. */
export type BenchPrinter<Row = BenchRow> = {
    header(): string,
    row(row: Row): string,
    footer(): string
};

export type OutputFormat = "table" | "md" | "csv" | "json" | "jsonl";
export const outputFormats: readonly OutputFormat[] = ["table", "md", "csv", "json", "jsonl"];

/** What the table-like printers need to know before the first row: which columns vary. */
export type PrinterOptions = {
    backends: string,
    buildCommit: string,
    buildNumber: number,
    showThreads: boolean,
    showGpuLayers: boolean,
    showBatch: boolean,
    showFlashAttention: boolean,
    /** Shown, as llama-bench does, when -ctk / -ctv are not just f16. */
    showTypeK?: boolean,
    showTypeV?: boolean,
    /** --experts given: a column of the experts each token used (n_expert_used). */
    showExperts?: boolean,
    showRoofline: boolean,
    showCompare: boolean,
    showE2e: boolean,
    /** The terminal table's width budget: the terminal's columns (100 when unknown). */
    maxWidth?: number,
    /** The longest test name of the run ("pp512+tg128 @ d4096"), to size the table's test column. */
    testWidth?: number,
    /** Colours for the table printer; identity when colours are off. */
    paint?: Paint
};

export type Paint = {dim(text: string): string, bold(text: string): string, bar(text: string): string};
export const noPaint: Paint = {dim: (text) => text, bold: (text) => text, bar: (text) => text};
