/**
 * Issue 2 §3: with temperature 0 and no repeat penalty our continuation must be llama.cpp's own
 * greedy output for the same file and prompt. llama-simple tokenizes as llama.cpp's tools do (BOS as
 * the file says, special tokens parsed), samples greedily, and prints the prompt's pieces and then each
 * generated piece; so its stdout must be <prompt pieces><our text>"\n" and its count ours.
 */
import {spawnSync} from "node:child_process";
import {runOurComplete} from "./runOurs.js";

export type ParityResult = {model: string, prompt: string, tokens: number, match: boolean, detail: string};

export function checkGreedyParity(root: string, llamaSimple: string, model: string, prompt: string, maxTokens: number, env?: NodeJS.ProcessEnv): ParityResult {
    const simple = spawnSync(llamaSimple, ["-m", model, "-n", String(maxTokens), prompt], {encoding: "utf8", maxBuffer: 16 * 1024 * 1024, env});
    if (simple.status !== 0) throw new Error(`llama-simple failed (${simple.status}): ${simple.stderr.slice(-2000)}`);
    const decoded = /decoded (\d+) tokens/.exec(simple.stderr);
    const theirCount = decoded == null ? NaN : Number(decoded[1]);
    const theirs = simple.stdout.endsWith("\n") ? simple.stdout.slice(0, -1) : simple.stdout;

    const ours = runOurComplete(root, model, prompt, {maxTokens});
    const textMatches = theirs.endsWith(ours.text) && theirs.slice(0, theirs.length - ours.text.length).endsWith(prompt);
    const countMatches = ours.tokens.generated === theirCount;
    const match = textMatches && countMatches;
    const detail = match
        ? `${ours.tokens.generated} tokens identical`
        : `ours ${ours.tokens.generated} tokens, llama-simple ${theirCount}; first difference at character ` +
          `${firstDifference(ours.text, theirs.slice(theirs.indexOf(prompt) + prompt.length))}: ours ${JSON.stringify(ours.text)}, llama-simple ${JSON.stringify(theirs)}`;
    return {model, prompt, tokens: ours.tokens.generated, match, detail};
}

function firstDifference(a: string, b: string): number {
    let index = 0;
    while (index < a.length && index < b.length && a[index] === b[index]) index++;
    return index;
}
