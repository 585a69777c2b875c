/**
 * `npm run bench:kv`: what the KV-cache work buys, on the 212M-parameter Mixtral-shaped Q4_0 model
 * (the one `npm run bench:native` writes; heads of 96 values, so q8_0/q4_0 blocks fit):
 *   1. chat /load of a ~4k-token conversation with its saved KV state against without (the
 *      conversation evaluated again): the time until the next answer's first token;
 *   2. prompt and generation tok/s after 4,096 tokens of context with each CPU setup: f16 with flash
 *      attention (llama.cpp's default), q8_0 K and V with flash attention (this project's rule before)
 *      and a q8_0 K cache with flash attention off (the rule now, hardware/kvCacheForUse.ts), through
 *      `mixtral bench -p 512 -n 64 -d 4096`, on the 212M model and on one layer at Mixtral 8x7B's
 *      real width;
 *   3. KV bytes per token for f16, q8_0 and q4_0: as the planner counts them, as node-llama-cpp
 *      estimates the context's memory, and as measured (llama.cpp's state size per token held);
 *   4. a 10-turn chat that grows to ~4k tokens, replayed through `mixtral serve` with its default
 *      KV cache (on the CPU a q8_0 K cache, flash attention off) and with f16, and through
 *      llama-server with its defaults, on both models: end-to-end time, medians of interleaved
 *      rounds (goal: ours ≥ 1.5× faster than llama-server's defaults).
 * A developer tool, never run by tests. Environment: BENCH_THREADS (default 1; parts 1 and 3; part 2
 * runs at BENCH_TG_THREADS, default the usable cores, and part 4 every server at its default
 * threads), BENCH_MODELS (parts 2 and 4, default "212m,4096w"), BENCH_TOKENS (conversation size, default 4096),
 * BENCH_RUNS (default 3), BENCH_TG (tokens generated, default 64), BENCH_PARTS (default
 * "load,tg,bytes,replay"), BENCH_REPLAY_TURNS (10), BENCH_REPLAY_WORDS (user words a turn, 90),
 * BENCH_REPLAY_ANSWER (max_tokens a turn, 128).
 */
import {execFileSync} from "node:child_process";
import {mkdirSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {cpus, loadavg} from "node:os";
import {join} from "node:path";
import {GgmlType, type Token} from "node-llama-cpp";
import {loadChat, saveChat} from "../src/cli/chat/chatStateFile.js";
import {ChatSession} from "../src/engine/chat/chatSession.js";
import {openModel, type OpenedModel} from "../src/engine/index.js";
import type {SamplingOptions} from "../src/generator/sampling.js";
import {cacheTypeBytesPerValue, cacheTypes, type CacheType} from "../src/hardware/kvCacheTypes.js";
import {kvBytesPerTokenPerBlockOf, mixtral8x7b} from "../src/hardware/mixtralShape.js";
import {median} from "../src/statistics.js";
import {benchDir, log, root} from "./benchSetup.js";
import {benchModels, benchModelsFromEnv, writeBenchModel} from "./native/benchModels.js";
import {usableCpuCores} from "../src/hardware/cpuCores.js";
import {replayChat, type ReplayResult, type ReplayShape} from "./kv/chatReplay.js";
import {ensureLlamaCppTools} from "./native/llamaCppBuild.js";
import {prebuiltCpuLibrary, prebuiltLibraryEnv} from "./native/prebuiltCpuLibrary.js";
import {startServer, type RunningServer} from "./serve/startServer.js";
import {chooseKvCache} from "../src/hardware/kvCacheForUse.js";
import {kvCacheLabel} from "../src/hardware/kvCacheTypes.js";


const threads = Number(process.env.BENCH_THREADS ?? 1);
const conversationTokens = Number(process.env.BENCH_TOKENS ?? 4096);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const tgTokens = Number(process.env.BENCH_TG ?? 64);
const tgThreads = Number(process.env.BENCH_TG_THREADS ?? usableCpuCores());
const parts = new Set((process.env.BENCH_PARTS ?? "load,tg,bytes,replay").split(","));
const replayShape: ReplayShape = {
    turns: Number(process.env.BENCH_REPLAY_TURNS ?? 10),
    userWords: Number(process.env.BENCH_REPLAY_WORDS ?? 90),
    answerTokens: Number(process.env.BENCH_REPLAY_ANSWER ?? 128)
};

/** The 212M model of bench:native: 768 wide, 8 layers, 8 heads (96 values each), 2 KV heads. */
const shape = {dim: 768, ff: 1024, layers: 8, heads: 8, kvHeads: 2};
mkdirSync(join(benchDir, "models"), {recursive: true});
/** Parts 2 and 4 run on these (scripts/native/benchModels.ts); parts 1 and 3 on the 212M model. */
const models = benchModelsFromEnv("212m,4096w");
const modelPath = join(benchDir, "models", "mixtral-212m-q4_0.gguf");
writeBenchModel(modelPath, benchModels.find((model) => model.key === "212m")!);
log(`load average ${loadavg().map((value) => value.toFixed(2)).join(" ")} on ${cpus().length} cores (other work makes every number noisy); ${threads} thread(s)`);

const greedy = (maxTokens: number): SamplingOptions => ({maxTokens, temperature: 0, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, stop: []});
/** A chat as `mixtral chat` runs it on the engine here (engine/localGenerator.ts). */
const localSession = (model: OpenedModel) => new ChatSession(model.sequence, {stateOwner: {modelPath: model.file.path, contextSize: model.contextSize, ...model.kvCache}});

// ---- 1. /load with and without the KV state ----
/**
 * For one KV-cache type: a ~4k-token conversation saved with its state and without, then, as in a
 * new process, /load and the next message up to its first token. Two costs are told apart: getting
 * the conversation back into the context (with the state: reading it; without: evaluating its
 * tokens, which is what the next message does first) and the next message itself at that depth,
 * which an uninterrupted session pays as well.
 */
async function loadBench(type: CacheType) {
    const kvCache = {typeK: type, typeV: type, flashAttention: "auto" as const};
    const loaded = await openModel({path: modelPath, gpu: "cpu", threads, contextSize: conversationTokens + 1024, kvCache});
    const stateDir = join(benchDir, "kv-state", type);
    rmSync(stateDir, {recursive: true, force: true});
    mkdirSync(stateDir, {recursive: true});
    const withState = join(stateDir, "talk.json");
    const textOnly = join(stateDir, "text-only.json");
    const session = localSession(loaded);
    const words = ["alpha", "beta", "gamma", "delta", "river", "stone", "cloud", "light", "north", "amber"];
    let turn = 0;
    while (session.contextUsed < conversationTokens - 250) {
        const message = Array.from({length: 180}, (_, i) => words[(i * 7 + turn * 3) % words.length]).join(" ");
        await session.send(message, greedy(16));
        turn++;
    }
    log(`${type}: conversation of ${session.history.length} messages, ${session.contextUsed} tokens; ${await saveChat(withState, session)}`);
    // The same conversation, saved as a file without a state (as /save wrote before).
    const saved = JSON.parse(readFileSync(withState, "utf8")) as {kvState: {tokens: number[]}};
    const conversation = saved.kvState.tokens as Token[];
    writeFileSync(textOnly, JSON.stringify({...saved, kvState: undefined}));

    /** A fresh session, as in a new process: /load, then the next message up to its first token. */
    const loadThenFirstToken = async (file: string) => {
        await loaded.sequence.clearHistory();
        const fresh = localSession(loaded);
        const started = performance.now();
        const line = await loadChat(file, fresh);
        const loadMs = performance.now() - started;
        const next = await fresh.send("And what comes next?", greedy(1));
        return {line, loadMs, firstTokenMs: loadMs + next.timings.firstTokenMs, evaluated: next.tokens.prompt};
    };
    /** What the state saves: the conversation's own tokens evaluated again (no new message). */
    const evaluateConversation = async () => {
        await loaded.sequence.clearHistory();
        const started = performance.now();
        await loaded.sequence.evaluateWithoutGeneratingNewTokens(conversation);
        return performance.now() - started;
    };
    const stateRuns = [], textRuns = [], evaluateMs = [];
    for (let run = 0; run < runs; run++) {
        textRuns.push(await loadThenFirstToken(textOnly));
        stateRuns.push(await loadThenFirstToken(withState));
        evaluateMs.push(await evaluateConversation());
    }
    log(`${type} with state: ${stateRuns[0]?.line}`);
    log(`${type} without:    ${textRuns[0]?.line}`);
    await loaded.dispose();
    const ms = (values: number[]) => `${median(values).toFixed(1)} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;
    const restoreWith = median(stateRuns.map((run) => run.loadMs));
    const restoreWithout = median(evaluateMs);
    const firstWith = median(stateRuns.map((run) => run.firstTokenMs));
    const firstWithout = median(textRuns.map((run) => run.firstTokenMs));
    return [
        [type, "with the KV state", ms(stateRuns.map((run) => run.loadMs)), ms(stateRuns.map((run) => run.firstTokenMs)), String(stateRuns[0]?.evaluated)],
        [type, "without (evaluated again)", ms(evaluateMs), ms(textRuns.map((run) => run.firstTokenMs)), String(textRuns[0]?.evaluated)],
        [type, "speed-up", `${(restoreWithout / restoreWith).toFixed(0)}×`, `${(firstWithout / firstWith).toFixed(1)}×`, ""]
    ];
}
const kvTypes = (process.env.BENCH_KV ?? "f16,q8_0").split(",") as CacheType[];
const loadRows: string[][] = [];
if (parts.has("load")) for (const type of kvTypes) loadRows.push(...await loadBench(type));

// ---- 2. prompt and generation tok/s at 4k context, per CPU setup ----
type CpuSetup = {label: string, flags: string[]};
const cpuSetups: CpuSetup[] = [
    {label: "f16, flash attention on (llama.cpp's default)", flags: ["-ctk", "f16", "-ctv", "f16", "-fa", "1"]},
    {label: "q8_0 K and V, flash attention on (the rule before)", flags: ["-ctk", "q8_0", "-ctv", "q8_0", "-fa", "1"]},
    {label: "q8_0 K, f16 V, flash attention off (the rule now)", flags: ["-ctk", "q8_0", "-ctv", "f16", "-fa", "0"]}
];
/** pp512 and tg at 4,096 tokens of context for one setup, through our own bench (the same library as everything here). */
function benchAtDepth(path: string, setup: CpuSetup): {pp: number, tg: number} {
    const output = execFileSync(process.execPath, [join(root, "bin", "mixtral.js"), "bench", "-m", path, "-p", "512", "-n", String(tgTokens),
        "-d", "4096", "-r", String(runs), "-t", String(tgThreads), ...setup.flags, "-o", "json"], {encoding: "utf8", stdio: ["ignore", "pipe", "inherit"]});
    const rows = JSON.parse(output) as {n_prompt: number, avg_ts: number}[];
    return {pp: rows.find((row) => row.n_prompt > 0)?.avg_ts ?? NaN, tg: rows.find((row) => row.n_prompt === 0)?.avg_ts ?? NaN};
}
const depthRows: string[][] = [];
if (parts.has("tg")) for (const model of models) {
    const figures = cpuSetups.map((setup) => benchAtDepth(model.path, setup));
    const [base] = figures;
    figures.forEach((figure, index) => depthRows.push([model.label, cpuSetups[index]!.label, figure.pp.toFixed(1), figure.tg.toFixed(1),
        (figure.pp / base!.pp).toFixed(2), (figure.tg / base!.tg).toFixed(2)]));
}

// ---- 3. KV bytes per token: planned, node-llama-cpp's estimate, measured ----
const headDim = shape.dim / shape.heads;
const ggml: Record<CacheType, GgmlType> = {f16: GgmlType.F16, q8_0: GgmlType.Q8_0, q4_0: GgmlType.Q4_0};
const bytesRows: string[][] = [];
for (const type of parts.has("bytes") ? cacheTypes : []) {
    const planned = shape.layers * shape.kvHeads * headDim * 2 * cacheTypeBytesPerValue(type);
    const model = await openModel({path: modelPath, gpu: "cpu", threads, contextSize: 4096, kvCache: {typeK: type, typeV: type, flashAttention: "on"}});
    // The V2 estimate is what node-llama-cpp reserves memory with when it creates a context (the
    // deprecated V1 counts a q8_0/q4_0 block's bytes per value: 32 times too much).
    const estimate = async (contextSize: number) => (await model.model.fileInsights.estimateContextResourceRequirementsV2({
        contextSize, modelGpuLayers: 0, batchSize: 512, sequences: 1, flashAttention: true, kvCacheKeyType: ggml[type], kvCacheValueType: ggml[type]
    })).cpuRam;
    const estimated = (await estimate(8192) - await estimate(4096)) / 4096;
    // llama.cpp's state holds the used cells' K and V: its growth per token held is the cache's cost.
    const tokens = model.model.tokenize("alpha beta gamma delta ".repeat(400), false).slice(0, 2048);
    await model.sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(0, 1024));
    const at1024 = model.context.stateSize;
    await model.sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(1024, 2048));
    const measured = (model.context.stateSize - at1024) / 1024;
    await model.dispose();
    const mixtral = kvBytesPerTokenPerBlockOf(type, type) * mixtral8x7b.blockCount;
    bytesRows.push([type, planned.toFixed(0), estimated.toFixed(0), measured.toFixed(0), (measured / planned).toFixed(3), `${(mixtral / 1024).toFixed(0)} KiB`]);
}

// ---- 4. a 10-turn chat replayed through our server (default cache, f16) and llama-server (its defaults) ----
type ReplayTarget = {label: string, kvCache: string, server: RunningServer};
/**
 * Every server at its defaults but the port (ours on the CPU backend, as llama-server's build here,
 * and with 8,192 tokens a sequence so that the ~4k chat is never near a window's edge); the same
 * turns to each, rounds interleaved, each round starting with another server.
 */
async function replayBench(modelPath: string): Promise<{targets: ReplayTarget[], results: ReplayResult[][]}> {
    const env = {...process.env};
    delete env.UV_THREADPOOL_SIZE;
    const ours = (runtime: string, extra: string[]) => startServer(process.execPath, [join(root, "bin", "mixtral.js"), "serve", "--model", modelPath,
        "--port", "{port}", "--gpu", "cpu", "--context-size", "8192", ...extra], {env: {...env, MIXTRAL_RUNTIME_DIR: join(benchDir, runtime)}, label: "mixtral serve"});
    const tools = ensureLlamaCppTools(benchDir, ["llama-server"], log);
    const prebuilt = prebuiltCpuLibrary(root);
    const servers: RunningServer[] = [];
    try {
        // What the rule gives serve on these models (heads of 96 and 128 values both fit q8_0's blocks), to label the row.
        const chosen = chooseKvCache({use: {kind: "serve"}, backend: "cpu", given: {}, headSizes: {}});
        const ourDefault = `${kvCacheLabel(chosen.typeK, chosen.typeV)}, flash attention ${chosen.flashAttention}`;
        const targets: ReplayTarget[] = [];
        const add = (label: string, kvCache: string, server: RunningServer) => {
            servers.push(server);
            targets.push({label, kvCache, server});
        };
        add("mixtral serve, default", ourDefault, await ours("run-kv-default", []));
        add("mixtral serve, f16", "f16, flash attention auto", await ours("run-kv-f16", ["--cache-type-k", "f16", "--cache-type-v", "f16"]));
        add("llama-server, defaults", "f16, flash attention auto (its defaults)", await startServer(tools.tool("llama-server"), ["-m", modelPath, "--host", "127.0.0.1", "--port", "{port}", "--no-webui"],
            {label: "llama-server", env: prebuilt == null ? undefined : prebuiltLibraryEnv(benchDir, prebuilt, tools.binDir)}));
        // Warm-up: page faults and thread start-up, on every server.
        for (const target of targets) await replayChat(target.server.baseUrl, 0, {turns: 1, userWords: 8, answerTokens: 4});
        const results: ReplayResult[][] = targets.map(() => []);
        for (let round = 0; round < runs; round++) {
            log(`replay round ${round + 1}/${runs}`);
            for (let step = 0; step < targets.length; step++) {
                const index = (round + step) % targets.length;
                results[index]!.push(await replayChat(targets[index]!.server.baseUrl, round + 1, replayShape));
            }
        }
        return {targets, results};
    } finally {
        await Promise.all(servers.map((server) => server.stop()));
    }
}
const replays: {label: string, replay: {targets: ReplayTarget[], results: ReplayResult[][]}}[] = [];
if (parts.has("replay")) for (const model of models) {
    log(`replay on the ${model.label} model`);
    replays.push({label: model.label, replay: await replayBench(model.path)});
}

// ---- report ----
const table = (rows: string[][]) => {
    const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
    return rows.map((row) => `| ${row.map((cell, column) => cell.padStart(widths[column] ?? 0)).join(" | ")} |`).join("\n");
};
if (loadRows.length > 0) {
    console.log(`## /load of a ~${conversationTokens}-token conversation (212M Q4_0, ${threads} thread(s), median of ${runs}, range in brackets, ms)\n`);
    console.log(table([
        ["KV cache", "", "conversation back in the context", "first token of the next message", "tokens the next message evaluates"],
        ...loadRows
    ]));
    console.log("\n(\"conversation back in the context\": reading the saved state against evaluating the conversation's tokens again;\n" +
        " the first token also pays for the next message's own ~20 tokens at ~4k depth, as an uninterrupted session does)");
}
if (depthRows.length > 0) {
    console.log(`\n## Prompt and generation at 4096 tokens of context, per CPU setup (bench -p 512 -n ${tgTokens} -d 4096 -r ${runs}, ${tgThreads} thread(s), tok/s)\n`);
    console.log(table([["model", "setup", "pp512", `tg${tgTokens}`, "pp ÷ f16's", "tg ÷ f16's"], ...depthRows]));
}
if (bytesRows.length > 0) {
    console.log(`\n## KV bytes per token (212M model: ${shape.layers} layers × ${shape.kvHeads} KV heads × ${headDim}; Mixtral 8x7B as the planner counts it in the last column)\n`);
    console.log(table([["type", "planned", "node-llama-cpp estimate (V2)", "measured (state size)", "measured / planned", "Mixtral 8x7B planned"], ...bytesRows]));
}
for (const {label, replay} of replays) {
    const {turns, userWords, answerTokens} = replayShape;
    console.log(`\n## A ${turns}-turn chat replayed end to end (${label}, ${userWords} words a message, max_tokens ${answerTokens}, greedy; ` +
        `every server at its default threads; median of ${runs} interleaved rounds, range in brackets)\n`);
    const llama = replay.results[replay.targets.length - 1]!;
    const spread = (values: number[], digits: number) => `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
    console.log(table([
        ["setup", "KV cache", "total s", "tokens generated", "context at the end", "llama-server's time ÷ this"],
        ...replay.targets.map((target, index) => {
            const rounds = replay.results[index]!;
            return [target.label, target.kvCache, spread(rounds.map((run) => run.ms / 1000), 2), spread(rounds.map((run) => run.generated), 0),
                spread(rounds.map((run) => run.contextTokens), 0), `${spread(rounds.map((run, round) => llama[round]!.ms / run.ms), 2)}×`];
        })
    ]));
}
if (replays.length > 0)
    console.log("\n(goal: mixtral serve's default ≥ 1.5× faster than llama-server's defaults; an answer may end before max_tokens, so compare the tokens generated)");
