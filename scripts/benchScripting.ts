/**
 * `npm run bench:scripting`: what scripting with mixtral costs, measured as a user runs it (the built
 * bin, wall time of whole processes):
 *   1. `complete --lines` over 32 prompts against 32 separate `complete` runs (test model; goal ≥ 3×);
 *   2. `--lines --parallel 4` against `--parallel 1`, timed after the load (test model and 212M; goal ≥ 1.5×);
 *   3. grammar-constrained (--json-schema) against unconstrained generation tok/s on a 212M-parameter
 *      Mixtral-shaped model (goal ≥ 0.8×).
 * A developer tool: never run by tests or CI. Environment: BENCH_RUNS (rounds, default 3),
 * BENCH_PROMPTS (default 32), BENCH_TOKENS (tokens a prompt, default 32), BENCH_THREADS (default 1),
 * BENCH_PARTS (which of the three to run, default "1,2,3").
 */
import {execFileSync, spawnSync} from "node:child_process";
import {mkdirSync, writeFileSync} from "node:fs";
import {cpus, loadavg} from "node:os";
import {join} from "node:path";
import {median} from "../src/statistics.js";
import {testModelPath} from "./gguf/testModels.js";
import {benchDir, log, root} from "./benchSetup.js";


const runs = Number(process.env.BENCH_RUNS ?? 3);
const promptCount = Number(process.env.BENCH_PROMPTS ?? 32);
const tokens = Number(process.env.BENCH_TOKENS ?? 32);
const threads = process.env.BENCH_THREADS ?? "1";
const parts = new Set((process.env.BENCH_PARTS ?? "1,2,3").split(",").map(Number));

const testModel = testModelPath("tiny-q8_0");
const bigModel = join(benchDir, "models", "mixtral-212m-q4_0.gguf");
const prompts = Array.from({length: promptCount}, (_, index) => `Note ${index + 1}: the weather in town number ${index * 7 + 3} was`);
const common = ["--temperature", "0", "--repeat-penalty", "1", "--max-tokens", String(tokens), "--threads", threads];

/** Runs the CLI; returns the wall time in ms and stdout. Exit 3 (cut-off JSON) still prints --json. */
function mixtral(args: string[], input?: string): {ms: number, stdout: string} {
    const started = performance.now();
    const result = spawnSync(process.execPath, [join(root, "bin", "mixtral.js"), ...args], {
        cwd: root, input: input ?? "", encoding: "utf8", maxBuffer: 64 * 1024 * 1024
    });
    const ms = performance.now() - started;
    if (result.status !== 0 && result.status !== 3) throw new Error(`mixtral ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
    return {ms, stdout: result.stdout};
}

/** The 212M-parameter Mixtral-shaped model of bench:native (the writer keeps an identical file). */
function writeBigModel() {
    mkdirSync(join(benchDir, "models"), {recursive: true});
    execFileSync(process.execPath, [join(root, "dist", "scripts", "writeModel.js"), "--out", bigModel,
        "--dim", "768", "--ff", "1024", "--layers", "8", "--type", "Q4_0"], {stdio: ["ignore", "ignore", "inherit"]});
}

function seconds(ms: number): string {
    return `${(ms / 1000).toFixed(2)} s`;
}

log(`load average ${loadavg().map((value) => value.toFixed(2)).join(" ")} on ${cpus().length} cores ` +
    "(other work on the machine makes every number noisy)");
const rows: string[][] = [["comparison", "baseline", "measured", "ratio", "goal"]];

// 1. One process for all prompts against one process a prompt.
if (parts.has(1)) {
    const linesMs: number[] = [];
    const separateMs: number[] = [];
    for (let round = 0; round < runs; round++) {
        linesMs.push(mixtral(["complete", "-m", testModel, ...common, "--lines"], prompts.join("\n") + "\n").ms);
        let total = 0;
        for (const prompt of prompts) total += mixtral(["complete", "-m", testModel, ...common, prompt]).ms;
        separateMs.push(total);
        log(`  round ${round + 1}: --lines ${seconds(linesMs.at(-1)!)}, ${promptCount} separate runs ${seconds(total)}`);
    }
    const lines = median(linesMs);
    const separate = median(separateMs);
    rows.push([`${promptCount} prompts, test model: --lines vs separate runs`, seconds(separate), seconds(lines), `${(separate / lines).toFixed(2)}×`, "≥ 3×"]);
}

// 2. Prompts decoded together in one context against one at a time. Timed inside the process
// (--verbose's "N prompts in X s", from the first prompt to the last answer), because on the test
// model loading takes most of a run and would hide the decoding; on the 212M model decoding dominates.
if (parts.has(2)) {
    writeBigModel();
    const generationSeconds = (model: string, n: number, count: number) => {
        const result = spawnSync(process.execPath, [join(root, "bin", "mixtral.js"), "complete", "-m", model, ...common, "--lines", "--parallel", String(n), "--verbose"], {
            cwd: root, input: prompts.slice(0, count).join("\n") + "\n", encoding: "utf8", maxBuffer: 64 * 1024 * 1024
        });
        const match = / prompts in ([\d.]+) s/.exec(result.stderr);
        if (result.status !== 0 || match == null) throw new Error(`--parallel ${n} failed: ${result.stderr.slice(-500)}`);
        return Number(match[1]) * 1000;
    };
    for (const [label, model, count] of [["test model", testModel, promptCount], ["212M Q4_0", bigModel, Math.min(promptCount, 8)]] as const) {
        const parallel: Record<number, number[]> = {1: [], 4: []};
        for (let round = 0; round < runs; round++)
            for (const n of [1, 4]) parallel[n]!.push(generationSeconds(model, n, count));
        log(`  ${label}: --parallel 1: ${parallel[1]!.map(seconds).join(", ")}; --parallel 4: ${parallel[4]!.map(seconds).join(", ")}`);
        const one = median(parallel[1]!);
        const four = median(parallel[4]!);
        rows.push([`${count} prompts, ${label}: --parallel 4 vs 1 (after load)`, seconds(one), seconds(four), `${(one / four).toFixed(2)}×`, "≥ 1.5×"]);
    }
}

// 3. Generation speed with and without a grammar, on a model big enough for per-token costs to show.
if (parts.has(3)) {
    writeBigModel();
    // Long enough never to be complete within the tokens: every token is sampled under the grammar.
    const schema = join(benchDir, "bench-schema.json");
    writeFileSync(schema, JSON.stringify({
        type: "array", maxItems: 1000,
        items: {type: "object", properties: {name: {type: "string", maxLength: 40}, kind: {enum: ["alpha", "beta", "gamma"]}, score: {type: "number"}, tags: {type: "array", items: {type: "string", maxLength: 12}, maxItems: 5}}}
    }));
    const generateTokens = ["--max-tokens", "128", "--temperature", "0.8", "--seed", "1", "--threads", threads];
    const speed = (args: string[]) => (JSON.parse(mixtral(["complete", "-m", bigModel, "--json", ...generateTokens, ...args, "Items:"]).stdout) as {
        tokens: {generated: number}, timings: {generatedTokensPerSecond: number}
    }).timings.generatedTokensPerSecond;
    speed([]);
    const free: number[] = [];
    const constrained: number[] = [];
    for (let round = 0; round < runs; round++) {
        free.push(speed([]));
        constrained.push(speed(["--json-schema", schema]));
    }
    log(`  212M: unconstrained ${free.map((value) => value.toFixed(0)).join(", ")} tok/s; --json-schema ${constrained.map((value) => value.toFixed(0)).join(", ")} tok/s`);
    const plain = median(free);
    const withGrammar = median(constrained);
    rows.push(["212M Q4_0: --json-schema vs unconstrained tok/s", plain.toFixed(1), withGrammar.toFixed(1), `${(withGrammar / plain).toFixed(2)}×`, "≥ 0.8×"]);
}

const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
for (const [index, row] of rows.entries()) {
    console.log(`| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`);
    if (index === 0) console.log(`| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`);
}
