/**
 * `npm run bench:perplexity`: tokens a second of `mixtral perplexity` against llama.cpp's own
 * llama-perplexity (built from the llama.cpp source node-llama-cpp ships, as bench:native builds its
 * tools), on the same model, text, context, chunks and threads, in interleaved rounds; with the
 * perplexity both print (they must agree) and where our time goes: llama_decode, or reading each
 * scored position's distribution back from the binding.
 * A developer tool: never run by tests or CI (it builds C++ and takes minutes).
 *
 * Environment: BENCH_RUNS (rounds, default 3), BENCH_MODELS (default "212m,4096w"; "tiny" is the
 * Q8_0 test model, a smoke run), BENCH_CONTEXT (-c, default 512), BENCH_CHUNKS (default 4),
 * BENCH_THREADS (default the usable cores).
 */
import {execFileSync} from "node:child_process";
import {mkdirSync, writeFileSync} from "node:fs";
import {loadavg} from "node:os";
import {join} from "node:path";
import {usableCpuCores} from "../src/hardware/cpuCores.js";
import {benchDir, log, root} from "./benchSetup.js";
import {testModelPath} from "./gguf/testModels.js";
import {benchModels, writeBenchModel} from "./native/benchModels.js";
import {ensureLlamaCppTools} from "./native/llamaCppBuild.js";
import {medianWithRange, printTable, ratio} from "./native/roundSummary.js";
import {runLlamaPerplexity} from "./perplexity/runLlamaPerplexity.js";
import {sampleText} from "./perplexity/sampleText.js";

const runs = Number(process.env.BENCH_RUNS ?? 3);
const contextSize = Number(process.env.BENCH_CONTEXT ?? 512);
const chunks = Number(process.env.BENCH_CHUNKS ?? 4);
const threads = Number(process.env.BENCH_THREADS ?? usableCpuCores());
const wanted = (process.env.BENCH_MODELS ?? "212m,4096w").split(",").map((name) => name.trim());

type BenchModel = {label: string, path: string};
const models: BenchModel[] = [];
mkdirSync(join(benchDir, "models"), {recursive: true});
for (const key of wanted) {
    if (key === "tiny") {
        models.push({label: "tiny Q8_0 (test model)", path: testModelPath("tiny-q8_0")});
        continue;
    }
    const shape = benchModels.find((model) => model.key === key);
    if (shape == null) throw new Error(`unknown BENCH_MODELS entry ${key}: tiny, ${benchModels.map((model) => model.key).join(", ")}`);
    const path = join(benchDir, "models", shape.file);
    writeBenchModel(path, shape);
    models.push({label: shape.label, path});
}
const tools = ensureLlamaCppTools(benchDir, ["llama-perplexity"], log);

// Every word is at least one token, so this is always enough text for the chunks asked for.
const textPath = join(benchDir, "perplexity-text.txt");
writeFileSync(textPath, sampleText(chunks * contextSize + 200));

type Round = {tokensPerSecond: number, ppl: number, decodeShare?: number};

/**
 * llama-perplexity's own time for what ours times (the loop over the chunks: decodes and its
 * log-softmax, no load or tokenizing): between the time stamps of its "calculating perplexity" and
 * "Final estimate" log lines (llama_perf's summary is printed after them and mostly lost at its exit).
 */
function runTheirs(model: string): Round {
    const {stderr} = runLlamaPerplexity(tools.tool("llama-perplexity"),
        ["-m", model, "-f", textPath, "-c", String(contextSize), "--chunks", String(chunks), "-t", String(threads)], benchDir,
        (_, err) => err.includes("Final estimate"), () => {});
    const stamp = (label: string) => {
        const match = new RegExp(`(\\d+)\\.(\\d\\d)\\.(\\d\\d\\d)\\.(\\d\\d\\d) I ${label}`).exec(stderr);
        return match == null ? NaN : Number(match[1]) * 60 + Number(match[2]) + Number(match[3]) / 1e3 + Number(match[4]) / 1e6;
    };
    const seconds = stamp("Final estimate") - stamp("perplexity: calculating");
    return {ppl: Number(/Final estimate: PPL = ([\d.]+)/.exec(stderr)?.[1]), tokensPerSecond: chunks * contextSize / seconds};
}

function runOurs(model: string): Round {
    const env = {...process.env};
    delete env.UV_THREADPOOL_SIZE;
    delete env.MIXTRAL_THREADS;
    const stdout = execFileSync(process.execPath, [join(root, "bin", "mixtral.js"), "perplexity", "-m", model, "-f", textPath,
        "-c", String(contextSize), "--chunks", String(chunks), "-t", String(threads), "--json"], {encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], cwd: root, env});
    const json = JSON.parse(stdout) as {ppl: number, tokens_per_second: number, seconds: number, decode_seconds: number};
    return {ppl: json.ppl, tokensPerSecond: json.tokens_per_second, decodeShare: json.decode_seconds / json.seconds};
}

const loadNow = () => loadavg()[0]!.toFixed(1);
const loadAtStart = loadNow();
const table: string[][] = [["model", "llama-perplexity tok/s", "ours tok/s", "ours ÷ theirs", "ours in llama_decode", "PPL theirs", "PPL ours"]];
for (const model of models) {
    log(`${model.label}: -c ${contextSize} --chunks ${chunks} -t ${threads}, ${runs} rounds`);
    // A warm-up of each fills the page cache; then each round runs both, one after the other, so load from elsewhere hits them alike.
    runTheirs(model.path);
    runOurs(model.path);
    const theirs: Round[] = [];
    const ours: Round[] = [];
    for (let round = 0; round < runs; round++) {
        theirs.push(runTheirs(model.path));
        ours.push(runOurs(model.path));
        log(`  round ${round + 1}: llama-perplexity ${theirs.at(-1)!.tokensPerSecond.toFixed(1)}, ours ${ours.at(-1)!.tokensPerSecond.toFixed(1)} tok/s (load ${loadNow()})`);
    }
    const speeds = (rounds: Round[]) => rounds.map((round) => round.tokensPerSecond);
    const share = ours.map((round) => round.decodeShare ?? NaN).sort((a, b) => a - b)[Math.floor(ours.length / 2)]!;
    table.push([
        model.label, medianWithRange(speeds(theirs)), medianWithRange(speeds(ours)), ratio(speeds(ours), speeds(theirs)),
        `${(100 * share).toFixed(0)}%`, theirs[0]!.ppl.toFixed(4), ours[0]!.ppl.toFixed(4)
    ]);
}
console.log(`perplexity tokens evaluated a second: medians of ${runs} interleaved rounds [min–max], -c ${contextSize}, ${chunks} chunks, ` +
    `${threads} threads; load average ${loadAtStart} at the start, ${loadNow()} at the end. ` +
    "The rest of our time (100% − the llama_decode share) is reading each scored position's distribution back.");
printTable(table);
