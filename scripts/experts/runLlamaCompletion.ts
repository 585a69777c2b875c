/**
 * llama.cpp's own greedy completion with `--override-kv <arch>.expert_used_count=int:N`: the
 * reference `--experts N` must equal. A plain completion, not a chat: -no-cnv; the prompt is not
 * echoed (--no-display-prompt), so stdout is the generated text followed by the two newlines
 * llama-completion ends with (and " [end of text]" when the model ended it, which the test models
 * never do). Its eval timings (stderr, llama_perf_context_print) give the generation speed.
 */
import {spawnSync} from "node:child_process";

export type LlamaCompletion = {text: string, evalTokens: number, evalTokensPerSecond: number};

export function runLlamaCompletion(binary: string, model: string, prompt: string,
    options: {experts: number, tokens: number, threads: number, architecture?: string}): LlamaCompletion {
    const args = [
        "-m", model, "-p", prompt, "-n", String(options.tokens), "-no-cnv", "--no-display-prompt",
        "--temp", "0", "--repeat-penalty", "1", "--seed", "1", "-t", String(options.threads), "-c", "512",
        "--override-kv", `${options.architecture ?? "llama"}.expert_used_count=int:${options.experts}`
    ];
    const run = spawnSync(binary, args, {encoding: "utf8", maxBuffer: 16 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"]});
    if (run.status !== 0) throw new Error(`llama-completion failed (${run.status}): ${run.stderr.slice(-2000)}`);
    const text = run.stdout.replace(/\n\n$/, "");
    // "llama_perf_context_print:        eval time =  123.45 ms /    23 runs   (   5.37 ms per token,   186.31 tokens per second)"
    const timing = /\s eval time =\s*[\d.]+ ms \/\s*(\d+) runs\s*\(\s*[\d.]+ ms per token,\s*([\d.]+) tokens per second\)/.exec(run.stderr);
    return {text, evalTokens: Number(timing?.[1] ?? NaN), evalTokensPerSecond: Number(timing?.[2] ?? NaN)};
}
