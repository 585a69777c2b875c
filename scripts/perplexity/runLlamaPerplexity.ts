import {closeSync, openSync, readFileSync} from "node:fs";
import {spawnSync} from "node:child_process";
import {join} from "node:path";

/**
 * Runs llama.cpp's llama-perplexity and returns its stdout whole (its results: LOG) and its stderr
 * (its log, with a time and level prefix; "Final estimate" and llama_perf's timings are there). Both
 * go to files, not pipes, and a run whose end is missing is run again: its log thread is never joined
 * at exit (llama.cpp issue 22142), and behind a pipe the last lines are often lost.
 */
export function runLlamaPerplexity(tool: string, args: string[], workDir: string, complete: (stdout: string, stderr: string) => boolean,
    log: (line: string) => void): {stdout: string, stderr: string} {
    for (let attempt = 1; attempt <= 5; attempt++) {
        log(`llama-perplexity ${args.join(" ")}`);
        const outPath = join(workDir, "llama-perplexity.out");
        const errPath = join(workDir, "llama-perplexity.err");
        const [out, err] = [openSync(outPath, "w"), openSync(errPath, "w")];
        const result = spawnSync(tool, args, {stdio: ["ignore", out, err]});
        closeSync(out);
        closeSync(err);
        const [stdout, stderr] = [readFileSync(outPath, "utf8"), readFileSync(errPath, "utf8")];
        if (result.status !== 0) throw new Error(`llama-perplexity failed (${result.status}):\n${stderr.slice(-2000)}`);
        if (complete(stdout, stderr)) return {stdout, stderr};
        log(`  its output lost its last lines (attempt ${attempt}); again`);
    }
    throw new Error("llama-perplexity's output was cut 5 times");
}
