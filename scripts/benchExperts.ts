/**
 * `npm run bench:experts`: generation tok/s with N experts a token (`--experts N`), ours beside
 * llama.cpp's with the same override (llama-completion --override-kv llama.expert_used_count=int:N
 * and its printed eval timings; llama-bench has no --override-kv), on the Mixtral-shaped models of
 * the native benchmark, with the roofline's prediction (bandwidth ÷ bytes a token reads at N) beside
 * them. Rounds are interleaved — each round runs every N and both programs — and medians are
 * compared, with their range. Our greedy text is also checked against llama-completion's at each N.
 * A developer tool: never run by tests or CI. It does not build llama.cpp: llama-completion must be
 * in .bench/llama.cpp/build/bin (`npm run bench:native` builds the llama.cpp tree there).
 *
 * Environment: BENCH_RUNS (rounds, default 5), BENCH_TOKENS (default 128), BENCH_EXPERTS (default
 * "1,2,4"), BENCH_THREADS (default the usable cores), BENCH_MODELS (default "4096w,212m"; also "847m").
 */
import {existsSync} from "node:fs";
import {cpus, loadavg} from "node:os";
import {join} from "node:path";
import {usableCpuCores} from "../src/hardware/cpuCores.js";
import {decodeBytesOfFile} from "../src/bench/decodeBytesOfFile.js";
import {bytesPerGeneratedToken, rooflineTokensPerSecond} from "../src/bench/roofline.js";
import {measureMemoryBandwidth} from "../src/bench/measureMemoryBandwidth.js";
import {readGgufHeader} from "../src/gguf/ggufHeader.js";
import {runOurComplete} from "./native/runOurs.js";
import {medianWithRange, printTable, ratio} from "./native/roundSummary.js";
import {benchModelsFromEnv} from "./native/benchModels.js";
import {runLlamaCompletion} from "./experts/runLlamaCompletion.js";
import {benchDir, log, root} from "./benchSetup.js";

const runs = Number(process.env.BENCH_RUNS ?? 5);
const tokens = Number(process.env.BENCH_TOKENS ?? 128);
const expertCounts = (process.env.BENCH_EXPERTS ?? "1,2,4").split(",").map(Number);
const threads = Number(process.env.BENCH_THREADS ?? usableCpuCores());

const llamaCompletion = join(benchDir, "llama.cpp", "build", "bin", "llama-completion");
if (!existsSync(llamaCompletion)) {
    log(`${llamaCompletion} is missing; build llama.cpp's llama-completion target there (this script does not build it).`);
    process.exit(1);
}
const models = benchModelsFromEnv("4096w,212m");

const loadNow = () => loadavg()[0]!.toFixed(1);
log(`load average ${loadavg().map((value) => value.toFixed(2)).join(" ")} on ${cpus().length} cores ` +
    "(other work on the machine makes every number noisy)");
// The roofline's bandwidth: the machine's RAM read peak, every usable core reading (as bench does).
const bandwidthGBs = await measureMemoryBandwidth({threads: usableCpuCores()});
log(`RAM read bandwidth for the roofline: ${bandwidthGBs.toFixed(1)} GB/s`);

const prompt = "Once upon a time";
const loadAtStart = loadNow();
const rows: string[][] = [["model", "experts", "llama.cpp", "ours", "ours ÷ llama.cpp", "roofline", "ours ÷ roofline", "same text"]];
let allWithin = true;
for (const model of models) {
    const {path} = model;
    const header = await readGgufHeader(path);
    log(`${model.label}: ${tokens} tokens at ${expertCounts.join(", ")} experts, -t ${threads}, ${runs} interleaved rounds`);
    // One warm-up fills the page cache.
    runOurComplete(root, path, prompt, {maxTokens: 8, threads});
    const speeds = new Map(expertCounts.map((n) => [n, {theirs: [] as number[], ours: [] as number[], sameText: true}]));
    for (let round = 0; round < runs; round++) {
        for (const experts of expertCounts) {
            const entry = speeds.get(experts)!;
            const theirs = runLlamaCompletion(llamaCompletion, path, prompt, {experts, tokens, threads});
            const ours = runOurComplete(root, path, prompt, {maxTokens: tokens, threads, experts});
            if (ours.tokens.generated < tokens / 2) log(`  note: only ${ours.tokens.generated} tokens generated (${ours.stopReason})`);
            entry.theirs.push(theirs.evalTokensPerSecond);
            entry.ours.push(ours.timings.generatedTokensPerSecond);
            entry.sameText &&= theirs.text === ours.text;
            log(`  round ${round + 1}, ${experts} experts: llama.cpp ${theirs.evalTokensPerSecond.toFixed(1)}, ours ` +
                `${ours.timings.generatedTokensPerSecond.toFixed(1)} tok/s (load ${loadNow()})`);
        }
    }
    for (const experts of expertCounts) {
        const {theirs, ours, sameText} = speeds.get(experts)!;
        const bytes = decodeBytesOfFile(header, experts);
        // The prompt's few tokens are the cache depth the generation starts from.
        const roofline = bytes == null ? NaN : rooflineTokensPerSecond(bandwidthGBs, bytesPerGeneratedToken(bytes, 5, tokens));
        const oursVsTheirs = ratio(ours, theirs);
        if (!(Number(oursVsTheirs) >= 0.9)) allWithin = false;
        rows.push([
            model.label, String(experts), medianWithRange(theirs), medianWithRange(ours), oursVsTheirs,
            Number.isFinite(roofline) ? roofline.toFixed(1) : "-", ratio(ours, [roofline]), sameText ? "yes" : "NO"
        ]);
    }
}
console.log(`generation tok/s: medians of ${runs} interleaved rounds [min–max], ${tokens} tokens, ${threads} threads; ` +
    `roofline at ${bandwidthGBs.toFixed(1)} GB/s; load average ${loadAtStart} at the start, ${loadNow()} at the end`);
printTable(rows);
if (!allWithin) {
    console.log("ours is below 0.9× llama.cpp at some N (on a busy machine, run again before reading anything into it)");
    process.exitCode = 1;
}
