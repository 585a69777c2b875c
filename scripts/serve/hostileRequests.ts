/**
 * Whether one big request stalls everyone else: with one stream running, three hostile requests
 * arrive one after another (a 3.9 MB prompt, a 60,000-message chat, a 20,000-value enum schema),
 * against `mixtral serve` and llama-server on the same 212M Q4_0 model. Prints, for each server,
 * the largest gap between the running stream's chunks and the slowest `/health` answer while they
 * arrive (goal: ≤ 200 ms and ≤ 50 ms), and the same before them (the quiet figures to compare with).
 *
 * npm run bench:hostile   (BENCH_THREADS, default 2; BENCH_NO_LLAMA_SERVER=1 skips llama-server)
 */
import {execFileSync} from "node:child_process";
import {request} from "node:http";
import {mkdirSync} from "node:fs";
import {join} from "node:path";
import {benchDir, log, root} from "../benchSetup.js";
import {ensureLlamaCppTools} from "../native/llamaCppBuild.js";
import {prebuiltCpuLibrary, prebuiltLibraryEnv} from "../native/prebuiltCpuLibrary.js";
import {printTable} from "../native/roundSummary.js";
import {startServer, type RunningServer} from "./startServer.js";

const threads = Number(process.env.BENCH_THREADS ?? 2);
const withLlamaServer = process.env.BENCH_NO_LLAMA_SERVER !== "1";
const perSequence = 2048;
const parallel = 2;

/** The bodies, built before anything is timed (building them would stall this process's own clock). */
const hostile: {label: string, path: string, body: Buffer}[] = [
    {label: "3.9 MB prompt", path: "/v1/completions", body: Buffer.from(JSON.stringify({prompt: "word ".repeat(780_000), max_tokens: 1}))},
    {label: "60k-message chat", path: "/v1/chat/completions", body: Buffer.from(JSON.stringify({
        max_tokens: 1,
        messages: [...Array.from({length: 60_000}, (_, index) => ({role: index % 2 === 0 ? "user" : "assistant", content: "hi"})), {role: "user", content: "x"}]
    }))},
    {label: "20k-value enum", path: "/v1/chat/completions", body: Buffer.from(JSON.stringify({
        max_tokens: 1, messages: [{role: "user", content: "x"}],
        response_format: {type: "json_schema", json_schema: {name: "pick", schema: {enum: Array.from({length: 20_000}, (_, index) => `value${index}`)}}}
    }))}
];

/** The status, or "timeout" when no answer came in `timeoutMs`. */
function post(origin: string, path: string, body: Buffer, {onChunk, timeoutMs}: {onChunk?: () => void, timeoutMs?: number} = {}): Promise<number | "timeout"> {
    return new Promise((resolve, reject) => {
        const url = new URL(path, origin);
        const req = request(url, {method: "POST", headers: {"Content-Type": "application/json", "Content-Length": body.length}}, (response) => {
            response.on("data", () => onChunk?.());
            response.on("end", () => resolve(response.statusCode ?? 0));
        });
        if (timeoutMs != null) req.setTimeout(timeoutMs, () => {
            req.destroy();
            resolve("timeout");
        });
        req.on("error", reject);
        req.end(body);
    });
}

async function healthMs(origin: string): Promise<number> {
    const started = performance.now();
    await fetch(`${origin}/health`).then((response) => response.arrayBuffer());
    return performance.now() - started;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Figures = {quietGap: number, quietHealth: number, gap: number, health: number, answers: string[]};

/** One stream of many tokens; health polled every 20 ms; quiet for a second, then the three requests. */
async function measure(origin: string): Promise<Figures> {
    const chunks: number[] = [];
    const stream = post(origin, "/v1/completions", Buffer.from(JSON.stringify({prompt: "Once upon a time", max_tokens: 100_000, stream: true, temperature: 0})),
        {onChunk: () => chunks.push(performance.now())});
    const health: [number, number][] = [];
    let polling = true;
    const poller = (async () => {
        while (polling) {
            const at = performance.now();
            health.push([at, await healthMs(origin)]);
            await sleep(20);
        }
    })();
    while (chunks.length < 5) await sleep(20);
    const quietFrom = performance.now();
    await sleep(1500);
    const hostileFrom = performance.now();
    const answers: string[] = [];
    for (const {path, body} of hostile) {
        const started = performance.now();
        const status = await post(origin, path, body, {timeoutMs: 120_000});
        answers.push(`${status} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        await sleep(300);
    }
    const hostileTo = performance.now();
    polling = false;
    await poller;
    // A gap counts for the window its closing chunk arrives in.
    const largestGap = (from: number, to: number) => {
        let largest = 0;
        for (let index = 1; index < chunks.length; index++)
            if (chunks[index]! >= from && chunks[index]! <= to) largest = Math.max(largest, chunks[index]! - chunks[index - 1]!);
        return largest;
    };
    const slowest = (from: number, to: number) => Math.max(0, ...health.filter(([at]) => at >= from && at <= to).map(([, ms]) => ms));
    // The stream is left running: stopping the server ends it.
    void stream.catch(() => undefined);
    return {
        quietGap: largestGap(quietFrom, hostileFrom), quietHealth: slowest(quietFrom, hostileFrom),
        gap: largestGap(hostileFrom, hostileTo), health: slowest(hostileFrom, hostileTo), answers
    };
}

mkdirSync(join(benchDir, "models"), {recursive: true});
const modelPath = join(benchDir, "models", "mixtral-212m-q4_0.gguf");
execFileSync(process.execPath, [
    join(root, "dist", "scripts", "writeModel.js"), "--out", modelPath, "--dim", "768", "--ff", "1024", "--layers", "8", "--type", "Q4_0"
], {stdio: ["ignore", "ignore", "inherit"]});
const tools = withLlamaServer ? ensureLlamaCppTools(benchDir, ["llama-server"], log) : undefined;

const servers: RunningServer[] = [];
try {
    const env = {...process.env};
    delete env.UV_THREADPOOL_SIZE;
    const ours = await startServer(process.execPath, [
        join(root, "bin", "mixtral.js"), "serve", "--model", modelPath, "--port", "{port}",
        "--parallel", String(parallel), "--threads", String(threads), "--context-size", String(perSequence)
    ], {env: {...env, MIXTRAL_RUNTIME_DIR: join(benchDir, "run")}, label: "mixtral serve"});
    servers.push(ours);
    log("mixtral serve: one stream, then the three requests");
    const results: [string, Figures][] = [["mixtral serve", await measure(ours.baseUrl.replace(/\/v1$/, ""))]];
    await ours.stop();
    if (tools != null) {
        const prebuilt = prebuiltCpuLibrary(root);
        const llama = await startServer(tools.tool("llama-server"), [
            "-m", modelPath, "--host", "127.0.0.1", "--port", "{port}", "-np", String(parallel), "-t", String(threads),
            "-c", String(perSequence * parallel), "--no-webui"
        ], {label: "llama-server", env: prebuilt == null ? undefined : prebuiltLibraryEnv(benchDir, prebuilt, tools.binDir)});
        servers.push(llama);
        log("llama-server: one stream, then the three requests");
        results.push(["llama-server", await measure(llama.baseUrl.replace(/\/v1$/, ""))]);
    }
    const ms = (value: number) => `${value.toFixed(0)} ms`;
    printTable([
        ["", ...results.map(([label]) => label)],
        ["largest stream gap, quiet", ...results.map(([, figures]) => ms(figures.quietGap))],
        ["largest stream gap, hostile requests (goal ≤ 200 ms)", ...results.map(([, figures]) => ms(figures.gap))],
        ["slowest /health, quiet", ...results.map(([, figures]) => ms(figures.quietHealth))],
        ["slowest /health, hostile requests (goal ≤ 50 ms)", ...results.map(([, figures]) => ms(figures.health))],
        ...hostile.map(({label}, index) => [`${label}: status, time`, ...results.map(([, figures]) => figures.answers[index]!)])
    ]);
} finally {
    await Promise.all(servers.map((server) => server.stop()));
}
