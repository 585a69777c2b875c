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

export function runOurComplete(root: string, model: string, prompt: string, options: {threads?: number, maxTokens: number, experts?: number}): CompleteJson {
    const args = [
        join(root, "bin", "mixtral.js"), "complete", prompt, "--model", model, "--json",
        "--temperature", "0", "--repeat-penalty", "1", "--max-tokens", String(options.maxTokens)
    ];
    if (options.threads != null) args.push("--threads", String(options.threads));
    if (options.experts != null) args.push("--experts", String(options.experts));
    // No UV_THREADPOOL_SIZE or MIXTRAL_THREADS from the caller's shell: the point is that the defaults are fast.
    const env = {...process.env};
    delete env.UV_THREADPOOL_SIZE;
    delete env.MIXTRAL_THREADS;
    const stdout = execFileSync(process.execPath, args, {encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], cwd: root, env});
    return JSON.parse(stdout) as CompleteJson;
}
