/** Runs llama-bench's text-generation test (no prompt) and returns its mean tok/s per thread count (none given: its default count). */
import {execFileSync} from "node:child_process";

type LlamaBenchRow = {n_threads: number, n_prompt: number, n_gen: number, avg_ts: number, stddev_ts: number};

export type LlamaBenchResult = {threads: number, tokensPerSecond: number, stddev: number};

export function runLlamaBench(llamaBench: string, model: string, threads: number[], tokens: number, repetitions: number, env?: NodeJS.ProcessEnv): LlamaBenchResult[] {
    const stdout = execFileSync(llamaBench, [
        "-m", model, "-p", "0", "-n", String(tokens), "-r", String(repetitions),
        ...threads.length === 0 ? [] : ["-t", threads.join(",")], "-o", "json"
    ], {encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 16 * 1024 * 1024, env});
    const rows = JSON.parse(stdout) as LlamaBenchRow[];
    return rows
        .filter((row) => row.n_gen === tokens && row.n_prompt === 0)
        .map((row) => ({threads: row.n_threads, tokensPerSecond: row.avg_ts, stddev: row.stddev_ts}));
}
