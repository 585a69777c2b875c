import {testName} from "./buildRow.js";
import type {BenchRow} from "./types.js";

/**
 * The stderr note for a row measured while other processes kept cores busy: more than the cores
 * its threads left free, so its threads waited for a core (and ggml's per-token threads can
 * collapse, see engine/native/tokenThreadChooser.ts). bench keeps the thread count it was given
 * (it measures, it does not adapt), so the note is what tells such a row from a quiet one.
 */
export function busyMachineNote(row: BenchRow, cores: number): string | undefined {
    const busy = row.busy_cores;
    if (busy == null || busy <= Math.max(0, cores - row.n_threads) + 0.5) return undefined;
    return `${testName(row)} t=${row.n_threads}: other processes kept ${busy.toFixed(1)} of the ${cores} CPU cores busy while it ran, ` +
        "so its threads waited for cores: the figure is lower and noisier than on a quiet machine (JSON: busy_cores).";
}
