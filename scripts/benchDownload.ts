/**
 * `npm run bench:download`: mixtral's download and checksum paths against the standard tools on
 * the same bytes. A local Hugging Face-like server (the one the e2e tests use, in its own process)
 * serves one random file over 127.0.0.1; we time
 *   - transfer: our ranged node:http downloader (src/models/httpTransfer.ts, what `mixtral pull` uses) vs `curl -L -o`,
 *   - hashing:  our streamed sha256 vs `sha256sum`,
 *   - pull:     `mixtral pull`'s whole core (probe, transfer, verify, rename) vs `curl && sha256sum`,
 * and print MB/s side by side with the ratio (goal ≥ 0.9× each): the median of BENCH_RUNS runs
 * after one warm-up. Environment: BENCH_SIZE_MB (default 1024), BENCH_RUNS (default 3).
 * A developer tool: never run by tests.
 */
import {execFile, fork} from "node:child_process";
import {randomFillSync} from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {promisify} from "node:util";
import {pullModel} from "../src/models/download.js";
import {fetchToFile} from "../src/models/httpTransfer.js";
import {sha256File} from "../src/models/sha256File.js";
import {startFakeHuggingFace} from "../test/e2e/helpers/fakeHuggingFace.js";
import {log} from "./benchSetup.js";

const sizeMb = Number(process.env.BENCH_SIZE_MB ?? 1024);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const exec = promisify(execFile);
const repo = "bench/random-GGUF";
const file = "random.gguf";

function median(values: number[]) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** MB/s of `step` over `bytes`: the median of `runs` timed runs after one warm-up, `reset` before each. */
async function throughput(label: string, bytes: number, step: () => Promise<unknown>, reset: () => void): Promise<number> {
    const seconds: number[] = [];
    for (let index = 0; index <= runs; index++) {
        reset();
        const start = process.hrtime.bigint();
        await step();
        const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
        if (index > 0) seconds.push(elapsed);
    }
    const result = bytes / 1e6 / median(seconds);
    log(`  ${label}: ${result.toFixed(0)} MB/s (${seconds.map((s) => s.toFixed(2)).join(", ")} s)`);
    return result;
}

/** The server's process: serves the file named on the command line until the parent disconnects. */
async function serve(source: string) {
    const served = await startFakeHuggingFace([{repo, file, data: fs.readFileSync(source)}]);
    process.send?.(served.url);
    process.on("disconnect", () => void served.stop().then(() => process.exit(0)));
}

async function bench() {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-bench-download-"));
    const data = Buffer.alloc(sizeMb * 1024 * 1024);
    randomFillSync(data);
    data.write("GGUF", 0, "latin1");
    const source = path.join(work, "source.gguf");
    fs.writeFileSync(source, data);

    // Its own process, so neither client shares a JavaScript thread with the server.
    const server = fork(fileURLToPath(import.meta.url), ["--serve", source], {stdio: ["ignore", "inherit", "inherit", "ipc"]});
    const endpoint = await new Promise<string>((resolve) => server.once("message", (message) => resolve(String(message))));
    const url = `${endpoint}/${repo}/resolve/main/${file}`;
    const env = {...process.env, HF_ENDPOINT: endpoint, MIXTRAL_MODELS: path.join(work, "store")};
    const downloadDir = path.join(work, "download");
    const curlOut = path.join(work, "curl.gguf");
    const clean = () => {
        for (const target of [downloadDir, curlOut, env.MIXTRAL_MODELS]) fs.rmSync(target, {recursive: true, force: true});
    };
    const keep = () => {};

    try {
        log(`${sizeMb} MiB random file served from 127.0.0.1, ${os.cpus().length} cores, ${runs} runs after a warm-up`);
        log("transfer");
        const ours = await throughput("mixtral (node:http)", data.length, () => {
            fs.mkdirSync(downloadDir, {recursive: true});
            return fetchToFile({url, file: path.join(downloadDir, file), totalBytes: data.length, env, stallMs: 60_000});
        }, clean);
        const curl = await throughput("curl", data.length, () => exec("curl", ["-sSfL", "-o", curlOut, url]), clean);
        log("sha256");
        const hashOurs = await throughput("mixtral (node crypto, 4 MiB reads)", data.length, () => sha256File(source), keep);
        const hashTool = await throughput("sha256sum", data.length, () => exec("sha256sum", [source]), keep);
        log("pull (probe + transfer + verify + rename)");
        const pullOurs = await throughput("mixtral pull", data.length,
            () => pullModel({kind: "remote", url, file, storeSubdir: "bench", label: file}, {env, reuse: false}), clean);
        const pullTools = await throughput("curl && sha256sum", data.length, async () => {
            await exec("curl", ["-sSfL", "-o", curlOut, url]);
            await exec("sha256sum", [curlOut]);
        }, clean);

        const rows = [
            ["transfer", ours, curl, "curl"],
            ["sha256", hashOurs, hashTool, "sha256sum"],
            ["pull + verify", pullOurs, pullTools, "curl && sha256sum"]
        ] as const;
        process.stdout.write("\n| step | mixtral MB/s | reference MB/s | reference | ratio |\n|---|---:|---:|---|---:|\n");
        for (const [step, a, b, reference] of rows)
            process.stdout.write(`| ${step} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${reference} | ${(a / b).toFixed(2)}×${a / b >= 0.9 ? "" : " (below 0.9×)"} |\n`);
    } finally {
        server.disconnect();
        fs.rmSync(work, {recursive: true, force: true});
    }
}

if (process.argv[2] === "--serve") await serve(process.argv[3] ?? "");
else await bench();
