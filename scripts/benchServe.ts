/**
 * `npm run bench:serve`: `mixtral serve` measured against `mixtral complete` and llama.cpp's own
 * llama-server (built from the llama.cpp source node-llama-cpp ships), on one Mixtral-shaped Q4_0
 * model and one thread count. Prints, as medians of interleaved rounds with their spread:
 *   1. one stream through serve vs `complete` (generation tok/s; goal ≥ 0.9×), after an idle spell and right after another
 *   2. aggregate output tok/s of 4 concurrent streams vs 1 stream through serve (goal ≥ 1.5×)
 *   3. serve vs `llama-server --parallel 4`, 4 concurrent streams (goal ≥ 0.9×)
 *   4. time to first token of turn 2 of a ~1,000-token conversation vs turn 1 (goal ≥ 5× faster)
 *   5. one chat stream through each dialect — OpenAI's /v1/chat/completions, Ollama's /api/chat,
 *      Anthropic's /v1/messages — with the same prompt, greedy, the same max tokens, in an order
 *      that turns each round: each one's generation tok/s over the OpenAI stream's (goal: within 2%)
 * and, first, the spread of BENCH_SPREAD (default 10) consecutive single requests right after start and
 * one warm-up request, on each server (slowest ÷ median: goal ≥ 0.7; some starts once served every
 * single stream at a tenth of the speed).
 * A developer tool: never run by tests or CI (it builds C++ and takes minutes).
 *
 * Environment: BENCH_RUNS (rounds, default 5), BENCH_TOKENS (tokens a stream, default 64), BENCH_DIALECT_TOKENS
 * (tokens of each dialect's stream, default 256),
 * BENCH_THREADS (unset: our default, whose thread count adapts to the machine's load, and llama-server
 * at that many threads; set: both pinned to it), BENCH_MODEL ("212m" default, or "847m"), BENCH_NO_LLAMA_SERVER=1 skips 3.
 * BENCH_BASELINE=<another built checkout> also starts that checkout's `mixtral serve` and sends it the same
 * 1- and 4-stream traffic in every round: the before/after of a change, on the same machine state.
 */
import {execFileSync} from "node:child_process";
import {mkdirSync} from "node:fs";
import {cpus, loadavg} from "node:os";
import {join} from "node:path";
import {ensureLlamaCppTools} from "./native/llamaCppBuild.js";
import {prebuiltCpuLibrary, prebuiltLibraryEnv} from "./native/prebuiltCpuLibrary.js";
import {median} from "../src/statistics.js";
import {usableCpuCores} from "../src/hardware/cpuCores.js";
import {printTable} from "./native/roundSummary.js";
import {runCompleteAsync} from "./serve/runCompleteAsync.js";
import {startServer, type RunningServer} from "./serve/startServer.js";
import {aggregateTokensPerSecond, decodeTokensPerSecond, streamCompletion} from "./serve/streamCompletion.js";
import {dialects, streamDialectChat, type Dialect} from "./serve/dialectStreams.js";
import {benchDir, log, root} from "./benchSetup.js";
import {conversationText} from "./serve/conversationText.js";


const runs = Number(process.env.BENCH_RUNS ?? 5);
const tokens = Number(process.env.BENCH_TOKENS ?? 64);
// Streams are written at most every 30 ms (--stream-interval): 64 tokens at ~400 tok/s are ~6 writes,
// and first-to-last chunk time is off by up to a write; the dialects' 2% needs longer answers.
const dialectTokens = Number(process.env.BENCH_DIALECT_TOKENS ?? 256);
const pinnedThreads = (process.env.BENCH_THREADS ?? "") === "" ? undefined : Number(process.env.BENCH_THREADS);
const threads = pinnedThreads ?? usableCpuCores();
const ourThreadArgs = pinnedThreads == null ? [] : ["--threads", String(pinnedThreads)];
const spreadRequests = Number(process.env.BENCH_SPREAD ?? 10);
const withLlamaServer = process.env.BENCH_NO_LLAMA_SERVER !== "1";
const baselineRoot = process.env.BENCH_BASELINE === "" ? undefined : process.env.BENCH_BASELINE;
const shapes = {
    "212m": {label: "212M Q4_0", file: "mixtral-212m-q4_0.gguf", dim: 768, ff: 1024, layers: 8},
    "847m": {label: "847M Q4_0", file: "mixtral-847m-q4_0.gguf", dim: 1024, ff: 3072, layers: 10}
};
const shape = shapes[(process.env.BENCH_MODEL ?? "212m") as keyof typeof shapes] ?? shapes["212m"];
const parallel = 4;
// 2,048 tokens a sequence: room for the ~1,000-token conversation and its second turn. mixtral's
// --context-size is per sequence (as Ollama's num_ctx), llama-server's -c all of them together.
const perSequence = 2048;
const contextSize = perSequence * parallel;

mkdirSync(join(benchDir, "models"), {recursive: true});
const modelPath = join(benchDir, "models", shape.file);
execFileSync(process.execPath, [
    join(root, "dist", "scripts", "writeModel.js"), "--out", modelPath,
    "--dim", String(shape.dim), "--ff", String(shape.ff), "--layers", String(shape.layers), "--type", "Q4_0"
], {stdio: ["ignore", "ignore", "inherit"]});
const tools = withLlamaServer ? ensureLlamaCppTools(benchDir, ["llama-server"], log) : undefined;

log(`load average ${loadavg().map((value) => value.toFixed(2)).join(" ")} on ${cpus().length} cores ` +
    "(other work on the machine makes every number noisy)");
const servers: RunningServer[] = [];
const stopAll = () => Promise.all(servers.map((server) => server.stop()));
process.on("SIGINT", () => void stopAll().then(() => process.exit(130)));
try {
    const env = {...process.env};
    delete env.UV_THREADPOOL_SIZE;
    log(`starting mixtral serve --parallel ${parallel} ${pinnedThreads == null ? "(default threads)" : `--threads ${threads}`} and${withLlamaServer ? "" : " not"} llama-server -np ${parallel} -t ${threads} on ${shape.label}`);
    const ours = await startServer(process.execPath, [
        join(root, "bin", "mixtral.js"), "serve", "--model", modelPath, "--port", "{port}",
        "--parallel", String(parallel), ...ourThreadArgs, "--context-size", String(perSequence)
    ], {env: {...env, MIXTRAL_RUNTIME_DIR: join(benchDir, "run")}, label: "mixtral serve"});
    servers.push(ours);
    // llama-server runs on node-llama-cpp's prebuilt ggml libraries (same revision): the same kernels
    // as ours, so the comparison is of the serving, not of two builds. (Our -march=native build also
    // died of SIGILL here: its OpenMP threads ran AMX tile instructions.)
    const prebuilt = tools == null ? undefined : prebuiltCpuLibrary(root);
    if (prebuilt != null) log(`llama-server runs on node-llama-cpp's ${prebuilt.cpuLibrary}`);
    const llama = tools == null ? undefined : await startServer(tools.tool("llama-server"), [
        "-m", modelPath, "--host", "127.0.0.1", "--port", "{port}", "-np", String(parallel), "-t", String(threads),
        "-c", String(contextSize), "--no-webui"
    ], {label: "llama-server", env: prebuilt == null ? undefined : prebuiltLibraryEnv(benchDir, prebuilt, tools.binDir)});
    if (llama != null) servers.push(llama);
    const baseline = baselineRoot == null ? undefined : await startServer(process.execPath, [
        join(baselineRoot, "bin", "mixtral.js"), "serve", "--model", modelPath, "--port", "{port}",
        "--parallel", String(parallel), ...ourThreadArgs, "--context-size", String(contextSize)
    ], {env: {...env, MIXTRAL_RUNTIME_DIR: join(benchDir, "run-baseline")}, label: "baseline mixtral serve"});
    if (baseline != null) {
        servers.push(baseline);
        log(`baseline: ${baselineRoot}'s mixtral serve`);
    }

    const greedy = {temperature: 0, max_tokens: tokens};
    const samples = {complete: [] as number[], oneStream: [] as number[], oneStreamAfterIdle: [] as number[], oneAggregate: [] as number[], fourAggregate: [] as number[],
        llamaFour: [] as number[], turn1: [] as number[], turn2: [] as number[], promptTokens: [] as number[],
        llamaTurn1: [] as number[], llamaTurn2: [] as number[], llamaOne: [] as number[],
        baselineOne: [] as number[], baselineOneAggregate: [] as number[], baselineFour: [] as number[]};
    const dialectSamples = Object.fromEntries(dialects.map((dialect) => [dialect, [] as number[]])) as Record<Dialect, number[]>;
    // Warm-up: first requests pay page faults and thread start-up on both servers.
    await streamCompletion(ours.baseUrl, "completions", {prompt: "warm up", ...greedy});
    if (llama != null) await streamCompletion(llama.baseUrl, "completions", {prompt: "warm up", ...greedy});
    if (baseline != null) await streamCompletion(baseline.baseUrl, "completions", {prompt: "warm up", ...greedy});
    // Consecutive identical single requests right after start: each server's steadiness, before anything else ran on it.
    const spread = {ours: [] as number[], llama: [] as number[]};
    for (const [name, server] of [["ours", ours], ["llama", llama]] as const) {
        if (server == null) continue;
        for (let index = 0; index < spreadRequests; index++)
            spread[name].push(decodeTokensPerSecond(await streamCompletion(server.baseUrl, "completions", {prompt: "Once upon a time", ...greedy})));
        log(`  ${name === "ours" ? "mixtral serve" : "llama-server"}, ${spreadRequests} single requests: ${spread[name].map((value) => value.toFixed(0)).join(", ")} tok/s`);
    }
    await runCompleteAsync(root, modelPath, "warm up", {threads: pinnedThreads, maxTokens: 8});

    for (let round = 0; round < runs; round++) {
        log(`round ${round + 1}/${runs}`);
        // Prompts differ by round so that no server answers from a cached prompt.
        const prompt = (index: number) => `Round ${round} stream ${index}: once upon a time`;
        samples.complete.push((await runCompleteAsync(root, modelPath, prompt(0), {threads: pinnedThreads, maxTokens: tokens})).timings.generatedTokensPerSecond);
        // The server has been idle while `complete` ran (~1.5 s): on this kind of VM the first tokens
        // after an idle spell are slow when ggml starts a thread for every token (see the README's
        // limits). A second stream right after is the server in use.
        const single = await streamCompletion(ours.baseUrl, "completions", {prompt: prompt(1), ...greedy});
        samples.oneStreamAfterIdle.push(decodeTokensPerSecond(single));
        const busy = await streamCompletion(ours.baseUrl, "completions", {prompt: prompt(2), ...greedy});
        samples.oneStream.push(decodeTokensPerSecond(busy));
        samples.oneAggregate.push(aggregateTokensPerSecond([busy]));
        const four = await Promise.all([0, 1, 2, 3].map((index) => streamCompletion(ours.baseUrl, "completions", {prompt: prompt(10 + index), ...greedy})));
        samples.fourAggregate.push(aggregateTokensPerSecond(four));
        if (baseline != null) {
            await streamCompletion(baseline.baseUrl, "completions", {prompt: prompt(30), ...greedy});
            const theirs = await streamCompletion(baseline.baseUrl, "completions", {prompt: prompt(31), ...greedy});
            samples.baselineOne.push(decodeTokensPerSecond(theirs));
            samples.baselineOneAggregate.push(aggregateTokensPerSecond([theirs]));
            const theirFour = await Promise.all([0, 1, 2, 3].map((index) => streamCompletion(baseline.baseUrl, "completions", {prompt: prompt(32 + index), ...greedy})));
            samples.baselineFour.push(aggregateTokensPerSecond(theirFour));
        }
        if (llama != null) {
            const theirs = await Promise.all([0, 1, 2, 3].map((index) => streamCompletion(llama.baseUrl, "completions", {prompt: prompt(20 + index), ...greedy})));
            samples.llamaFour.push(aggregateTokensPerSecond(theirs));
            // The peer's own 4-streams-over-1 ratio: what batching can give on this model and machine.
            samples.llamaOne.push(aggregateTokensPerSecond([await streamCompletion(llama.baseUrl, "completions", {prompt: prompt(24), ...greedy})]));
        }
        // One chat stream through each dialect, the same prompt; the order turns each round so that
        // none is always the one after `complete`'s idle spell or the one with a cached prompt.
        for (let index = 0; index < dialects.length; index++) {
            const dialect = dialects[(round + index) % dialects.length]!;
            dialectSamples[dialect].push(decodeTokensPerSecond(await streamDialectChat(ours.baseUrl.replace(/\/v1$/, ""), dialect, prompt(40), dialectTokens)));
        }
        // A ~1,000-token first message, then a short second turn that repeats it with the answer. Time to
        // first token is the time of a 1-token request: the first *text* of a stream can come tokens
        // later (a held-back UTF-8 byte, the answer's leading space), which would blur the comparison.
        const long = conversationText(round, 440);
        const turn1Messages = [{role: "user", content: long}];
        const turn1 = await timeRequest(ours.baseUrl, {messages: turn1Messages, temperature: 0, max_tokens: 1});
        samples.turn1.push(turn1.ms);
        samples.promptTokens.push(turn1.promptTokens);
        const answer = await streamCompletion(ours.baseUrl, "chat/completions", {messages: turn1Messages, temperature: 0, max_tokens: 8});
        const turn2Messages = [...turn1Messages, {role: "assistant", content: answer.text}, {role: "user", content: "Go on."}];
        samples.turn2.push((await timeRequest(ours.baseUrl, {messages: turn2Messages, temperature: 0, max_tokens: 1})).ms);
        // The same conversation through llama-server: both servers get the same traffic, and its
        // cache_prompt gives the peer's turn-2 speed-up beside ours.
        if (llama != null) {
            samples.llamaTurn1.push((await timeRequest(llama.baseUrl, {messages: turn1Messages, temperature: 0, max_tokens: 1})).ms);
            samples.llamaTurn2.push((await timeRequest(llama.baseUrl, {messages: turn2Messages, temperature: 0, max_tokens: 1})).ms);
        }
    }

    const summary = (values: number[], digits = 1) => values.length === 0 ? "—"
        : `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
    const ratios = (top: number[], bottom: number[]) => top.map((value, index) => value / bottom[index]!);
    const rows: string[][] = [["measure", "median (min–max)", "ratio: median (min–max)", "goal"]];
    rows.push(["complete, generation tok/s", summary(samples.complete), "", ""]);
    rows.push(["serve 1 stream after ~1.5 s idle, generation tok/s", summary(samples.oneStreamAfterIdle), summary(ratios(samples.oneStreamAfterIdle, samples.complete), 2) + " of complete", ""]);
    rows.push(["serve 1 stream, the next one, generation tok/s", summary(samples.oneStream), summary(ratios(samples.oneStream, samples.complete), 2) + " of complete", "≥ 0.9"]);
    rows.push(["serve 1 stream, output tok/s (wall)", summary(samples.oneAggregate), "", ""]);
    rows.push([`serve ${parallel} streams, output tok/s (wall)`, summary(samples.fourAggregate), summary(ratios(samples.fourAggregate, samples.oneAggregate), 2) + " of 1 stream", "≥ 1.5"]);
    if (llama != null) {
        rows.push(["llama-server 1 stream, output tok/s (wall)", summary(samples.llamaOne), summary(ratios(samples.oneAggregate, samples.llamaOne), 2) + " ours/theirs", ""]);
        rows.push([`llama-server -np ${parallel}, ${parallel} streams, output tok/s`, summary(samples.llamaFour),
            summary(ratios(samples.fourAggregate, samples.llamaFour), 2) + " ours/theirs", "≥ 0.9"]);
        rows.push([`llama-server ${parallel} streams over its 1 stream`, "", summary(ratios(samples.llamaFour, samples.llamaOne), 2) + "×", ""]);
    }
    if (baseline != null) {
        rows.push(["baseline serve 1 stream, generation tok/s", summary(samples.baselineOne), summary(ratios(samples.oneStream, samples.baselineOne), 2) + " ours/baseline", ""]);
        rows.push(["baseline serve 1 stream, output tok/s (wall)", summary(samples.baselineOneAggregate), summary(ratios(samples.oneAggregate, samples.baselineOneAggregate), 2) + " ours/baseline", ""]);
        rows.push([`baseline serve ${parallel} streams, output tok/s (wall)`, summary(samples.baselineFour), summary(ratios(samples.fourAggregate, samples.baselineFour), 2) + " ours/baseline", ""]);
    }
    for (const dialect of dialects) {
        rows.push([`serve 1 chat stream through ${dialect} (${dialectTokens} tokens), generation tok/s`, summary(dialectSamples[dialect]),
            dialect === "openai" ? "" : summary(ratios(dialectSamples[dialect], dialectSamples.openai), 3) + " of openai", dialect === "openai" ? "" : "0.98–1.02"]);
    }
    rows.push([`chat turn 1 (${median(samples.promptTokens)} tokens), first token ms`, summary(samples.turn1, 0), "", ""]);
    rows.push(["chat turn 2, first token ms", summary(samples.turn2, 0), summary(ratios(samples.turn1, samples.turn2), 1) + "× faster", "≥ 5"]);
    if (llama != null) {
        rows.push(["llama-server chat turn 1, first token ms", summary(samples.llamaTurn1, 0), summary(ratios(samples.turn1, samples.llamaTurn1), 2) + " ours/theirs", ""]);
        rows.push(["llama-server chat turn 2, first token ms", summary(samples.llamaTurn2, 0), summary(ratios(samples.llamaTurn1, samples.llamaTurn2), 1) + "× faster", ""]);
    }
    console.log(`${shape.label}, ${pinnedThreads == null ? `our default threads (adaptive, from ${threads}), llama-server -t ${threads}` : `${threads} threads`}, ` +
        `${tokens} tokens a stream, greedy; medians of ${runs} interleaved rounds (spread: min–max)`);
    printTable(rows);
    console.log(`\n${spreadRequests} consecutive single requests right after start (and one warm-up), generation tok/s`);
    const spreadRows: string[][] = [["server", "min", "median", "max", "slowest ÷ median", "goal"]];
    for (const [label, values] of [["mixtral serve", spread.ours], ["llama-server", spread.llama]] as const) {
        if (values.length === 0) continue;
        spreadRows.push([label, Math.min(...values).toFixed(1), median(values).toFixed(1), Math.max(...values).toFixed(1),
            (Math.min(...values) / median(values)).toFixed(2), label === "mixtral serve" ? "≥ 0.7" : ""]);
    }
    printTable(spreadRows);
} finally {
    await stopAll();
}

/** Milliseconds of a non-streamed chat request (with max_tokens 1: the prompt's evaluation and one token). */
async function timeRequest(baseUrl: string, body: Record<string, unknown>): Promise<{ms: number, promptTokens: number}> {
    const started = performance.now();
    const response = await fetch(`${baseUrl}/chat/completions`, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    if (!response.ok) throw new Error(`${baseUrl} answered ${response.status}: ${await response.text()}`);
    const answer = await response.json() as {usage: {prompt_tokens: number}};
    return {ms: performance.now() - started, promptTokens: answer.usage.prompt_tokens};
}
