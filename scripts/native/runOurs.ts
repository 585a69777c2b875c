/** Runs our own `mixtral complete` as a user would (the built bin, a fresh process per run). */
import {execFileSync} from "node:child_process";
import {join} from "node:path";

export type CompleteJson = {
    text: string,
    threads: number,
    stopReason: string,
    tokens: {prompt: number, generated: number},
    timings: {generatedTokensPerSecond: number}
};

export function runOurComplete(root: string, model: string, prompt: string, options: {threads?: number, maxTokens: number}): CompleteJson {
    const args = [
        join(root, "bin", "mixtral.js"), "complete", prompt, "--model", model, "--json",
        "--temperature", "0", "--repeat-penalty", "1", "--max-tokens", String(options.maxTokens)
    ];
    if (options.threads != null) args.push("--threads", String(options.threads));
    // No UV_THREADPOOL_SIZE from the caller's shell: the point is that the defaults are fast.
    const env = {...process.env};
    delete env.UV_THREADPOOL_SIZE;
    const stdout = execFileSync(process.execPath, args, {encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], cwd: root, env});
    return JSON.parse(stdout) as CompleteJson;
}

export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
