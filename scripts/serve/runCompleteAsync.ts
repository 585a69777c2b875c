import {execFile} from "node:child_process";
import {join} from "node:path";
import {promisify} from "node:util";
import type {CompleteJson} from "../native/runOurs.js";

/**
 * `mixtral complete --json` in a fresh process, like runOurComplete, but without blocking this
 * process: a frozen event loop keeps the HTTP client from seeing a server close its idle
 * connections, and its next request then fails (EPIPE). `--no-server`: the point is the standalone run.
 */
export async function runCompleteAsync(root: string, model: string, prompt: string, options: {threads?: number, maxTokens: number}): Promise<CompleteJson> {
    const env = {...process.env};
    delete env.UV_THREADPOOL_SIZE;
    delete env.MIXTRAL_THREADS;
    const {stdout} = await promisify(execFile)(process.execPath, [
        join(root, "bin", "mixtral.js"), "complete", prompt, "--model", model, "--json", "--no-server",
        "--temperature", "0", "--repeat-penalty", "1", "--max-tokens", String(options.maxTokens),
        ...options.threads == null ? [] : ["--threads", String(options.threads)]
    ], {encoding: "utf8", cwd: root, env, maxBuffer: 16 * 1024 * 1024});
    return JSON.parse(stdout) as CompleteJson;
}
