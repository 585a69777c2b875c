/**
 * `npm run bench:native`: our `mixtral complete` against llama.cpp's own llama-bench, built from the
 * llama.cpp source node-llama-cpp ships, on Mixtral-shaped Q4_0 models written here — one of them a
 * layer at Mixtral 8x7B's real width, where a wrong thread choice shows. For each model it prints
 * generation tok/s of llama-bench -t N (also on node-llama-cpp's prebuilt libraries), ours with
 * --threads N and ours with the default threads, as medians of interleaved rounds with their range,
 * then checks greedy parity with llama-simple.
 * A developer tool: never run by tests or CI (it builds C++ and takes minutes).
 *
 * Environment: BENCH_RUNS (rounds, default 5), BENCH_TOKENS (default 128), BENCH_THREADS (N, default
 * the usable cores, which is also our default), BENCH_MODELS (default "4096w,212m"; also "847m"),
 * BENCH_PARITY=0 skips the parity check. BENCH_BASELINE=<another built checkout> (e.g. a `git worktree`
 * of an older commit after `npm ci && npm run build` there) adds its `complete` to every round: the
 * before/after of a change, interleaved with ours on the same machine state.
 */
import {existsSync} from "node:fs";
import {cpus, loadavg} from "node:os";
import {join} from "node:path";
import {usableCpuCores} from "../src/hardware/cpuCores.js";
import {ensureLlamaCppTools} from "./native/llamaCppBuild.js";
import {runLlamaBench} from "./native/runLlamaBench.js";
import {runOurComplete} from "./native/runOurs.js";
import {checkGreedyParity} from "./native/greedyParity.js";
import {prebuiltCpuLibrary, prebuiltLibraryEnv} from "./native/prebuiltCpuLibrary.js";
import {medianWithRange, printTable, ratio} from "./native/roundSummary.js";
import {benchDir, log, root} from "./benchSetup.js";
import {benchModelsFromEnv} from "./native/benchModels.js";

// dist/scripts/benchNative.js → the repository root is two folders up; scripts/ → one.

const runs = Number(process.env.BENCH_RUNS ?? 5);
const tokens = Number(process.env.BENCH_TOKENS ?? 128);
const threadCounts = (process.env.BENCH_THREADS ?? String(usableCpuCores())).split(",").map(Number);
const baseline = process.env.BENCH_BASELINE === "" ? undefined : process.env.BENCH_BASELINE;

const models = benchModelsFromEnv("4096w,212m");

const tools = ensureLlamaCppTools(benchDir, ["llama-bench", "llama-simple"], log);

const loadNow = () => loadavg()[0]!.toFixed(1);
log(`load average ${loadavg().map((value) => value.toFixed(2)).join(" ")} on ${cpus().length} cores ` +
    "(other work on the machine makes every number noisy)");
const prompt = "Once upon a time";
// llama-bench once more, on node-llama-cpp's prebuilt libraries: what the same kernels do without Node.
const prebuilt = prebuiltCpuLibrary(root);
const prebuiltEnv = prebuilt == null ? undefined : prebuiltLibraryEnv(benchDir, prebuilt, tools.binDir);
if (prebuilt != null) log(`node-llama-cpp runs ${prebuilt.cpuLibrary}`);
const loadAtStart = loadNow();
const rows: string[][] = [[
    "model", "N", "llama-bench -t N", "llama-bench -t N, prebuilt", "ours --threads N", "ours default",
    "default ÷ llama-bench", "--threads ÷ llama-bench", "default ÷ prebuilt",
    ...(baseline == null ? [] : ["baseline --threads N", "baseline default", "--threads ÷ baseline", "default ÷ baseline"])
]];
if (baseline != null) log(`baseline: ${baseline} (its bin/mixtral.js and dist/)`);
for (const model of models) {
    const {path} = model;
    log(`${model.label}: llama-bench -p 0 -n ${tokens} against mixtral complete --max-tokens ${tokens}, ${runs} rounds`);
    for (const threads of threadCounts) {
        // One warm-up run fills the page cache. Then each round runs every column, one after the other, so
        // that load from elsewhere on the machine hits them alike; medians are compared.
        runOurComplete(root, path, prompt, {maxTokens: 16});
        if (baseline != null) runOurComplete(baseline, path, prompt, {maxTokens: 16});
        const speeds = {native: [] as number[], prebuilt: [] as number[], ours: [] as number[], oursDefault: [] as number[],
            baseline: [] as number[], baselineDefault: [] as number[]};
        const ourSpeed = (options: {threads?: number}, checkout = root) => {
            const result = runOurComplete(checkout, path, prompt, {...options, maxTokens: tokens});
            // An early end of sequence would time a handful of tokens: say so rather than compare it.
            if (result.tokens.generated < tokens / 2) log(`  note: only ${result.tokens.generated} tokens generated (${result.stopReason})`);
            return result.timings.generatedTokensPerSecond;
        };
        for (let round = 0; round < runs; round++) {
            speeds.native.push(runLlamaBench(tools.tool("llama-bench"), path, [threads], tokens, 1)[0]?.tokensPerSecond ?? NaN);
            if (prebuiltEnv != null)
                speeds.prebuilt.push(runLlamaBench(tools.tool("llama-bench"), path, [threads], tokens, 1, prebuiltEnv)[0]?.tokensPerSecond ?? NaN);
            speeds.ours.push(ourSpeed({threads}));
            speeds.oursDefault.push(ourSpeed({}));
            if (baseline != null) {
                speeds.baseline.push(ourSpeed({threads}, baseline));
                speeds.baselineDefault.push(ourSpeed({}, baseline));
            }
            log(`  N=${threads} round ${round + 1}: llama-bench ${speeds.native.at(-1)!.toFixed(1)}, prebuilt ${speeds.prebuilt.at(-1)?.toFixed(1) ?? "-"}, ` +
                `ours --threads ${speeds.ours.at(-1)!.toFixed(1)}, ours default ${speeds.oursDefault.at(-1)!.toFixed(1)}` +
                (baseline == null ? "" : `, baseline --threads ${speeds.baseline.at(-1)!.toFixed(1)}, baseline default ${speeds.baselineDefault.at(-1)!.toFixed(1)}`) +
                ` (load ${loadNow()})`);
        }
        rows.push([
            model.label, String(threads), medianWithRange(speeds.native), medianWithRange(speeds.prebuilt),
            medianWithRange(speeds.ours), medianWithRange(speeds.oursDefault),
            ratio(speeds.oursDefault, speeds.native), ratio(speeds.ours, speeds.native), ratio(speeds.oursDefault, speeds.prebuilt),
            ...(baseline == null ? [] : [medianWithRange(speeds.baseline), medianWithRange(speeds.baselineDefault),
                ratio(speeds.ours, speeds.baseline), ratio(speeds.oursDefault, speeds.baseline)])
        ]);
    }
}
console.log(`generation tok/s: medians of ${runs} interleaved rounds [min–max], ${tokens} tokens; ` +
    `our default uses ${usableCpuCores()} threads here; load average ${loadAtStart} at the start, ${loadNow()} at the end`);
printTable(rows);

if (process.env.BENCH_PARITY === "0") process.exit(0);
// The test models and the 212M one (when benchmarked): the real-width layer adds minutes, not coverage.
const parityModels = [join(root, "test", ".models", "tiny-q8_0.gguf"), join(root, "test", ".models", "tiny-q4_0.gguf"),
    ...models.filter((model) => model.key === "212m").map((model) => model.path)];
console.log("\ngreedy parity with llama-simple (--temperature 0 --repeat-penalty 1):");
let allMatch = true;
for (const model of parityModels) {
    if (!existsSync(model)) {
        console.log(`  skipped ${model}: not written (run \`node dist/scripts/writeTestModels.js\`)`);
        continue;
    }
    for (const parityPrompt of [prompt, "The quick brown fox"]) {
        const result = checkGreedyParity(root, tools.tool("llama-simple"), model, parityPrompt, 64);
        console.log(`  ${result.match ? "match   " : "MISMATCH"} ${model.slice(root.length + 1)} ${JSON.stringify(parityPrompt)}: ${result.detail}`);
        if (!result.match && prebuiltEnv != null) {
            // Same program on the prebuilt libraries: tells a near-tie decided by the build from a bug of ours.
            const again = checkGreedyParity(root, tools.tool("llama-simple"), model, parityPrompt, 64, prebuiltEnv);
            console.log(`    llama-simple on node-llama-cpp's prebuilt libraries: ${again.match ? "match" : "MISMATCH"} (${again.detail.slice(0, 120)})`);
            allMatch &&= again.match;
        } else allMatch &&= result.match;
    }
}
if (!allMatch) {
    console.log("  (a first difference after many identical tokens is usually a near-tie of random weights that two\n" +
        "   builds' floating-point rounding decide differently; the prebuilt-libraries line tells)");
    process.exitCode = 1;
}
