import {testName} from "./buildRow.js";
import {tokensPerSecondSamples} from "./statistics.js";
import type {BenchRow} from "./types.js";

/**
 * The stderr note for a row some of whose repetitions were run again (see unsteadySamples.ts),
 * so a re-run is never silent; undefined when there was none.
 */
export function rerunNote(row: BenchRow): string | undefined {
    const dropped = row.rerun_samples_ns.length;
    if (dropped === 0) return undefined;
    const speeds = tokensPerSecondSamples(row.rerun_samples_ns, row.n_prompt + row.n_gen).map((ts) => ts.toFixed(2)).join(", ");
    return `${testName(row)} t=${row.n_threads}: ${dropped} of ${row.samples_ns.length} repetitions ran far slower than the others ` +
        `(${speeds} t/s; ggml's per-token threads can collapse on a busy CPU) and ${dropped === 1 ? "was" : "were"} run again; ` +
        "the row uses the re-run, and JSON keeps the dropped samples in rerun_samples_ns.";
}
