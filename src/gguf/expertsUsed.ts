import path from "node:path";
import {UsageError} from "../errors.js";
import {GgufHeaderError, scalarValue, scanGgufHeader, type GgufScan} from "./scanGgufHeader.js";

/**
 * `--experts N`: how many of a mixture of experts' experts the router sends each token to. The file
 * says it (`llama.expert_used_count`, 2 for Mixtral 8x7B); llama.cpp lets a load override it
 * (`--override-kv llama.expert_used_count=int:N`). These are the rules for N, read from the header
 * before anything loads, so a bad value is one sentence and exit 2 whatever command takes the flag.
 */
export type ExpertCounts = {
    /** `expert_count`; 0 for a dense model. */
    expertCount: number,
    /** `expert_used_count` as the file has it (the largest, when it is one value a block). */
    fileUsed: number
};

/** What a load uses: the file's counts and the N each token is routed to. */
export type ExpertsUsed = ExpertCounts & {used: number};

export function expertCountsOf(scan: GgufScan): ExpertCounts {
    const architecture = String(scalarValue(scan.metadata.get("general.architecture")) ?? "llama");
    const number = (name: string): number => {
        const entry = scan.metadata.get(`${architecture}.${name}`);
        if (entry == null) return 0;
        if (entry.type === "array") return Math.max(0, ...entry.values.map(Number));
        return Number(entry.value);
    };
    return {expertCount: number("expert_count"), fileUsed: number("expert_used_count")};
}

/**
 * Checks a requested N against the file; the counts a load with it uses. Refused (exit 2) outside
 * 1..expert_count, or on a dense model, where there is nothing to choose.
 */
export function checkExpertsUsed(file: string, counts: ExpertCounts, requested: number | undefined): ExpertsUsed {
    if (requested == null) return {...counts, used: counts.fileUsed};
    const name = path.basename(file);
    if (counts.expertCount < 2)
        throw new UsageError(`--experts needs a mixture-of-experts model, and ${name} is dense (it has no experts to choose from).`, {
            hint: "Drop --experts for this file, or use a Mixtral GGUF."
        });
    if (!Number.isInteger(requested) || requested < 1 || requested > counts.expertCount)
        throw new UsageError(`--experts ${requested} is outside 1–${counts.expertCount}: ${name} has ${counts.expertCount} experts.`, {
            hint: `Pick 1 to ${counts.expertCount}; the file routes each token to ${counts.fileUsed}.`
        });
    return {...counts, used: requested};
}

/**
 * The check on a file by path, through our own bounded header reader (node-llama-cpp is not loaded:
 * a client of a running server must stay fast). A file that cannot be scanned is left to the
 * validation that runs before any load, which names its problem; then the answer is undefined.
 */
export async function checkExpertsOfFile(file: string, requested: number | readonly number[] | undefined): Promise<ExpertsUsed | undefined> {
    if (requested == null) return undefined;
    let scan: GgufScan;
    try {
        scan = await scanGgufHeader(file);
    } catch (error) {
        if (error instanceof GgufHeaderError || (error as NodeJS.ErrnoException).code != null) return undefined;
        throw error;
    }
    const counts = expertCountsOf(scan);
    const list = typeof requested === "number" ? [requested] : requested;
    let last: ExpertsUsed | undefined;
    for (const n of list) last = checkExpertsUsed(file, counts, n);
    return last;
}

/** "2 of 8 experts", and when N is not the file's: "1 of 8 experts (the file's 2)". */
export function describeExperts(experts: ExpertsUsed): string {
    const text = `${experts.used} of ${experts.expertCount} experts`;
    return experts.used === experts.fileUsed ? text : `${text} (the file's ${experts.fileUsed})`;
}
