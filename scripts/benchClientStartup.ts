/**
 * `npm run bench:client`: the start-up of `mixtral complete` as the client of a running
 * `mixtral serve` against `mixtral --help` (issue 9's goal: at most 2× its wall time). Starts a
 * server of the tiny test model on 127.0.0.1 (port 0, its own MIXTRAL_RUNTIME_DIR), then runs
 * interleaved rounds of
 *   - `mixtral --help`,
 *   - `mixtral complete -m tiny -n 8 --temperature 0 Hello` (finds the server on its own),
 *   - the same with `--endpoint <url>`,
 *   - the same with `--no-server` (loads the model itself: the cost a server saves),
 * timing each process from spawn to exit, and prints each one's median with its spread (min–max)
 * and the ratio to --help. Environment: BENCH_ROUNDS (default 9). A developer tool: never run by tests.
 */
import {spawn} from "node:child_process";
import {mkdtempSync, rmSync} from "node:fs";
import os from "node:os";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {log} from "./benchSetup.js";
import {median} from "../src/statistics.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const cli = path.join(root, "bin", "mixtral.js");
const model = path.join(root, "test", ".models", "tiny-q8_0.gguf");
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);

type Run = {ms: number, code: number | null, stdout: string, stderr: string};

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
    return new Promise((resolve, reject) => {
        const started = performance.now();
        const child = spawn(process.execPath, [cli, ...args], {cwd: root, env, stdio: ["ignore", "pipe", "pipe"]});
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => { stdout += chunk; });
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
        child.on("error", reject);
        child.on("close", (code) => resolve({ms: performance.now() - started, code, stdout, stderr}));
    });
}

async function startServer(env: NodeJS.ProcessEnv): Promise<{baseUrl: string, stop(): void}> {
    const child = spawn(process.execPath, [cli, "serve", "--model", model, "--host", "127.0.0.1", "--port", "0", "--parallel", "1"], {
        cwd: root, env, stdio: ["ignore", "ignore", "pipe"]
    });
    let stderr = "";
    const baseUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`mixtral serve did not start:\n${stderr}`)), 120_000);
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
            stderr += chunk;
            const match = / at (http:\/\/\S+\/v1) /.exec(stderr);
            if (match != null) {
                clearTimeout(timer);
                resolve(match[1]!);
            }
        });
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`mixtral serve exited with ${code}:\n${stderr}`));
        });
    });
    return {baseUrl, stop: () => child.kill("SIGKILL")};
}

const runtimeDir = mkdtempSync(path.join(os.tmpdir(), "mixtral-bench-client-"));
const env: NodeJS.ProcessEnv = {...process.env, MIXTRAL_RUNTIME_DIR: runtimeDir, NO_COLOR: "1"};
const server = await startServer(env);
try {
    const prompt = ["-n", "8", "--temperature", "0", "Hello"];
    const cases: {label: string, args: string[]}[] = [
        {label: "mixtral --help", args: ["--help"]},
        {label: "complete (finds the running serve)", args: ["complete", "--model", model, ...prompt]},
        {label: "complete --endpoint <url>", args: ["complete", "--endpoint", server.baseUrl, ...prompt]},
        {label: "complete --no-server (loads the model)", args: ["complete", "--model", model, "--no-server", ...prompt]}
    ];
    log(`server: ${server.baseUrl}; ${rounds} interleaved rounds (plus one untimed warm-up round)`);
    const times = cases.map(() => [] as number[]);
    for (let round = 0; round <= rounds; round++) {
        for (const [index, entry] of cases.entries()) {
            const result = await run(entry.args, env);
            if (result.code !== 0 || (entry.args[0] === "complete" && result.stdout === ""))
                throw new Error(`${entry.label} failed (exit ${result.code}):\n${result.stderr}`);
            // Round 0 warms the compile cache and the page cache.
            if (round > 0) times[index]!.push(result.ms);
        }
    }
    const helpMedian = median(times[0]!);
    const rows = cases.map((entry, index) => {
        const values = times[index]!;
        return {
            label: entry.label,
            median: median(values),
            min: Math.min(...values),
            max: Math.max(...values)
        };
    });
    const width = Math.max(...rows.map((row) => row.label.length));
    process.stdout.write(`${"command".padEnd(width)}  median ms  spread (min–max) ms  × --help\n`);
    for (const row of rows)
        process.stdout.write(`${row.label.padEnd(width)}  ${row.median.toFixed(0).padStart(9)}  ${`${row.min.toFixed(0)}–${row.max.toFixed(0)}`.padStart(19)}  ${(row.median / helpMedian).toFixed(2).padStart(8)}\n`);
    const clientRatio = rows[1]!.median / helpMedian;
    process.stdout.write(`\nclient call / --help: ${clientRatio.toFixed(2)}× (goal ≤ 2×) — ${clientRatio <= 2 ? "met" : "NOT met"}\n`);
} finally {
    server.stop();
    rmSync(runtimeDir, {recursive: true, force: true});
}
