/**
 * `npm run bench:busy`: generation on a busy machine. Starts one busy-looping process per usable core
 * (what a build or a busy browser does to a desktop) and compares, in interleaved rounds, our default
 * `mixtral complete` (its thread count adapts, see src/engine/native/tokenThreadChooser.ts) with
 * llama-bench at its default threads and with our own `--threads k` for every k from 1 to the cores,
 * on the Mixtral-shaped models bench:native writes (212M, and one layer at Mixtral 8x7B's real
 * width); then the same without the busy processes: our default against llama-bench. Goals (issue 21):
 * busy, our default ≥ 1.5× llama-bench and ≥ 0.8× our best fixed count; quiet, ≥ 0.95× llama-bench.
 * A developer tool: never run by tests or CI (it loads the machine on purpose and takes minutes).
 *
 * Environment: BENCH_RUNS (rounds, default 3), BENCH_TOKENS (default 64), BENCH_MODELS (default
 * "212m,4096w"), BENCH_BUSY (busy processes, default one per usable core), BENCH_MACHINES ("busy,quiet",
 * the default, or one of them).
 */
import {spawn, type ChildProcess} from "node:child_process";
import {cpus, loadavg} from "node:os";
import {join} from "node:path";
import {usableCpuCores} from "../src/hardware/cpuCores.js";
import {median} from "../src/statistics.js";
import {ensureLlamaCppTools} from "./native/llamaCppBuild.js";
import {runLlamaBench} from "./native/runLlamaBench.js";
import {runOurComplete} from "./native/runOurs.js";
import {medianWithRange, printTable, ratio} from "./native/roundSummary.js";
import {benchModelsFromEnv} from "./native/benchModels.js";
import {benchDir, log, root} from "./benchSetup.js";

const runs = Number(process.env.BENCH_RUNS ?? 3);
const tokens = Number(process.env.BENCH_TOKENS ?? 64);
const cores = usableCpuCores();
const busyCount = Number(process.env.BENCH_BUSY ?? cores);
const machines = (process.env.BENCH_MACHINES ?? "busy,quiet").split(",").map((name) => name.trim()).filter((name): name is "busy" | "quiet" => name === "busy" || name === "quiet");
const prompt = "Once upon a time";

const models = benchModelsFromEnv("212m,4096w");
const tools = ensureLlamaCppTools(benchDir, ["llama-bench"], log);

// The busy processes: each spins on a core, and ends by itself once this process is gone (checked
// every ~10^8 iterations), so not even a SIGKILL of this script leaves them behind.
let busy: ChildProcess[] = [];
const busyLoop = `let i = 0; for (;;) { if (++i === 1e8) { i = 0; if (process.ppid !== ${process.pid}) process.exit(); } }`;
function startBusy() {
    busy = Array.from({length: busyCount}, () => spawn(process.execPath, ["-e", busyLoop], {stdio: "ignore"}));
}
function stopBusy() {
    for (const child of busy) if (child.exitCode == null && child.signalCode == null) child.kill("SIGKILL");
    busy = [];
}
process.on("exit", stopBusy);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(signal, () => {
        stopBusy();
        process.exit(signal === "SIGINT" ? 130 : 143);
    });

const ourSpeed = (path: string, threads?: number) => {
    const result = runOurComplete(root, path, prompt, {threads, maxTokens: tokens});
    // An early end of sequence would time a handful of tokens: say so rather than compare it.
    if (result.tokens.generated < tokens / 2) log(`  note: only ${result.tokens.generated} tokens generated (${result.stopReason})`);
    return result.timings.generatedTokensPerSecond;
};
const llamaBenchSpeed = (path: string) => runLlamaBench(tools.tool("llama-bench"), path, [], tokens, 1)[0]?.tokensPerSecond ?? NaN;
const loadNow = () => loadavg()[0]!.toFixed(1);

const fixedCounts = Array.from({length: cores}, (_, index) => index + 1);
const rows: string[][] = [[
    "model", "machine", "llama-bench (default -t)", "ours default",
    ...fixedCounts.map((threads) => `ours --threads ${threads}`),
    "default ÷ llama-bench", "goal", "default ÷ best fixed", "goal"
]];
log(`${cores} usable cores, load average ${loadavg().map((value) => value.toFixed(2)).join(" ")}; ${tokens} tokens, ${runs} rounds`);
try {
    for (const model of models) {
        const {path} = model;
        // One warm-up run fills the page cache.
        runOurComplete(root, path, prompt, {maxTokens: 16});
        for (const machine of machines) {
            if (machine === "busy") startBusy();
            log(`${model.label}, ${machine === "busy" ? `${busyCount} busy processes` : "quiet"}:`);
            const speeds = {llama: [] as number[], ours: [] as number[], fixed: fixedCounts.map(() => [] as number[])};
            for (let round = 0; round < runs; round++) {
                // Interleaved: each round runs every column, so load from elsewhere hits them alike.
                speeds.llama.push(llamaBenchSpeed(path));
                speeds.ours.push(ourSpeed(path));
                for (const [index, threads] of fixedCounts.entries()) speeds.fixed[index]!.push(ourSpeed(path, threads));
                log(`  round ${round + 1}: llama-bench ${speeds.llama.at(-1)!.toFixed(1)}, ours default ${speeds.ours.at(-1)!.toFixed(1)}` +
                    fixedCounts.map((threads, index) => `, --threads ${threads} ${speeds.fixed[index]!.at(-1)!.toFixed(1)}`).join("") +
                    ` tok/s (load ${loadNow()})`);
            }
            stopBusy();
            const best = speeds.fixed.reduce((a, b) => median(b) > median(a) ? b : a);
            rows.push([
                model.label, machine === "busy" ? `${busyCount} busy` : "quiet",
                medianWithRange(speeds.llama), medianWithRange(speeds.ours),
                ...speeds.fixed.map((values) => medianWithRange(values)),
                ratio(speeds.ours, speeds.llama), machine === "busy" ? "≥ 1.5" : "≥ 0.95",
                ratio(speeds.ours, best), machine === "busy" ? "≥ 0.8" : ""
            ]);
        }
    }
} finally {
    stopBusy();
}
console.log(`generation tok/s: medians of ${runs} interleaved rounds [min–max], ${tokens} tokens, on ${cores} usable cores ` +
    `(${cpus().length} CPUs); busy: ${busyCount} processes spinning; load average ${loadNow()} at the end`);
printTable(rows);
