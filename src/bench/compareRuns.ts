import {UsageError} from "../errors.js";
import {readTextFile} from "../textFile.js";
import type {BenchRow} from "./types.js";

/** The fields of a previous row that --compare needs; llama-bench's own JSON has them too. */
export type PreviousRow = Pick<BenchRow, "model_type" | "n_prompt" | "n_gen" | "n_depth" | "n_threads" | "n_gpu_layers" | "avg_ts"> &
    {n_expert_used?: number};

const keyFields = ["model_type", "n_prompt", "n_gen", "n_depth", "n_threads", "n_gpu_layers"] as const;

function keyOf(row: Pick<BenchRow, (typeof keyFields)[number]>): string {
    return JSON.stringify(keyFields.map((field) => row[field]));
}

/** Reads a previous run written with `-o json` or `-o jsonl` (ours or llama-bench's). */
export async function readPreviousRun(path: string): Promise<PreviousRow[]> {
    let text: string;
    try {
        // `mixtral bench -o json > previous.json` in Windows PowerShell 5.1 writes UTF-16LE.
        text = await readTextFile(path);
    } catch (error) {
        throw new UsageError(`Cannot read the --compare file ${path}.`, {hint: "Pass a file written by `mixtral bench -o json` or `llama-bench -o json`.", cause: error});
    }
    let parsed: unknown;
    try {
        parsed = text.trimStart().startsWith("[")
            ? JSON.parse(text)
            : text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as unknown);
    } catch (error) {
        throw new UsageError(`The --compare file ${path} is not JSON or JSON lines.`, {hint: "Write it with `mixtral bench -o json > previous.json`.", cause: error});
    }
    if (!Array.isArray(parsed) || !parsed.every(isPreviousRow))
        throw new UsageError(`The --compare file ${path} does not hold benchmark rows.`, {
            hint: "Each row needs model_type, n_prompt, n_gen, n_depth, n_threads, n_gpu_layers and avg_ts, as llama-bench writes them."
        });
    return parsed;
}

function isPreviousRow(value: unknown): value is PreviousRow {
    if (typeof value !== "object" || value == null) return false;
    const row = value as Record<string, unknown>;
    return typeof row.model_type === "string" && typeof row.avg_ts === "number" &&
        ["n_prompt", "n_gen", "n_depth", "n_threads", "n_gpu_layers"].every((field) => typeof row[field] === "number");
}

/**
 * avg_ts ÷ the previous run's avg_ts for the same model type, test, depth, threads and offload
 * (averaged when the previous run has several such rows); null when there is no such row. A row of
 * ours with another n_expert_used is another test (llama-bench's rows have no such field: any matches).
 */
export function compareRatio(row: BenchRow, previous: readonly PreviousRow[]): number | null {
    const key = keyOf(row);
    const matches = previous.filter((candidate) => keyOf(candidate) === key && candidate.avg_ts > 0 &&
        (typeof candidate.n_expert_used !== "number" || candidate.n_expert_used === row.n_expert_used));
    if (matches.length === 0) return null;
    const previousTs = matches.reduce((sum, match) => sum + match.avg_ts, 0) / matches.length;
    return row.avg_ts / previousTs;
}
