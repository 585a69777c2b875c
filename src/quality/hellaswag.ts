import {UsageError} from "../errors.js";
import type {ChunkScorer} from "./chunkScorer.js";
import {positionsPerDecode} from "./chunkPlan.js";
import {checkAborted} from "./measurePerplexity.js";
import {Mt19937, uniformBelow} from "./mt19937.js";
import {negativeLogLikelihood} from "./positionMath.js";

/**
 * llama-perplexity's `--hellaswag` (`hellaswag_score`): multiple-choice scoring by the mean
 * log-probability of each ending after its context (acc_norm). Its task file has 6 lines a task: the
 * context, the index of the right ending, then the 4 endings. Tasks are picked in random order (its
 * std::mt19937 seeded with 1), `--hellaswag-tasks` of them; each task's 4 texts decode together, one
 * sequence each, and the logits of the last token the 4 share give every ending's first token.
 */
export type HellaswagTask = {context: string, gold: number, endings: string[]};

export type HellaswagLine = {task: number, accuracy: number, lower: number, upper: number};

export type HellaswagResult = HellaswagLine & {seconds: number};

export type HellaswagOptions = {
    /** --hellaswag-tasks: at most this many (llama-perplexity's default is 400). */
    tasks: number,
    contextSize: number,
    batchSize: number,
    signal?: AbortSignal,
    onTask?: (line: HellaswagLine, taskCount: number) => void
};

/** The task file's lines, as std::getline splits them (a final newline ends the last line, it does not start another). */
function linesOf(text: string): string[] {
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return lines;
}

/** Picks `count` tasks as llama-perplexity does: each a uniform draw among those left, removed once drawn. */
export function selectHellaswagTasks(text: string, count: number): HellaswagTask[] {
    const lines = linesOf(text);
    if (lines.length % 6 !== 0 || lines.length === 0)
        throw new UsageError(`A hellaswag task file has 6 lines a task; this one has ${lines.length} lines.`, {
            hint: "Use llama.cpp's hellaswag_val_full.txt (scripts/get-hellaswag.sh) or a file in its format."
        });
    const rng = new Mt19937(1);
    const tasks: HellaswagTask[] = [];
    const wanted = Math.min(count, lines.length / 6);
    for (let i = 0; i < wanted; i++) {
        const index = uniformBelow(rng, lines.length / 6);
        const [context, gold, ...endings] = lines.splice(index * 6, 6) as [string, string, ...string[]];
        // std::stoi: the leading integer.
        tasks.push({context, gold: Number.parseInt(gold, 10), endings});
    }
    return tasks;
}

/** The Wilson score interval of llama-perplexity's output, 95 %. */
export function wilsonInterval(correct: number, total: number): [number, number] {
    const za = 1.95996398454;
    const frequency = correct / total;
    const z = za * za / total;
    const spread = z * Math.sqrt(total * (4 * frequency * (1 - frequency) + z)) / (za + za);
    return [(frequency + z * 0.5 - spread) / (1 + z), (frequency + z * 0.5 + spread) / (1 + z)];
}

export async function measureHellaswag(scorer: ChunkScorer, text: string, options: HellaswagOptions): Promise<HellaswagResult> {
    const tasks = selectHellaswagTasks(text, options.tasks);
    if (scorer.sequenceCount < 4) throw new UsageError("Hellaswag decodes a task's 4 endings together: the context needs 4 sequences.");
    const started = performance.now();
    let correct = 0;
    let line: HellaswagLine = {task: 0, accuracy: 0, lower: 0, upper: 0};
    for (const [index, task] of tasks.entries()) {
        checkAborted(options.signal);
        const sequences = task.endings.map((ending) => scorer.tokenize(`${task.context} ${ending}`));
        const longest = Math.max(...sequences.map((tokens) => tokens.length));
        if (longest > options.contextSize)
            throw new UsageError(`Hellaswag task ${index + 1} needs ${longest} tokens, more than the context of ${options.contextSize}.`, {hint: "Pass a larger -c."});
        const prefix = commonPrefix(sequences);
        const sums = [0, 0, 0, 0];
        const counts = [1, 1, 1, 1];
        await scorer.scoreSequences(
            sequences.map((tokens, s) => ({tokens, outputFrom: s === 0 ? prefix - 1 : prefix, readUntil: tokens.length - 1})),
            positionsPerDecode(options.batchSize, 4),
            (s, position, probabilities) => {
                if (position === prefix - 1) {
                    // The last shared token's distribution gives each ending's first token.
                    sequences.forEach((tokens, ending) => { sums[ending] = sums[ending]! - negativeLogLikelihood(probabilities, tokens[prefix]!); });
                } else {
                    sums[s] = sums[s]! - negativeLogLikelihood(probabilities, sequences[s]![position + 1]!);
                    counts[s] = counts[s]! + 1;
                }
            });
        const means = sums.map((sum, s) => sum / counts[s]!);
        let best = 0;
        for (let s = 1; s < 4; s++) if (means[s]! > means[best]!) best = s;
        if (best === task.gold) correct++;
        const [lower, upper] = wilsonInterval(correct, index + 1);
        line = {task: index + 1, accuracy: correct / (index + 1), lower, upper};
        options.onTask?.(line, tasks.length);
    }
    return {...line, seconds: (performance.now() - started) / 1000};
}

/** How many first tokens all four texts share (the context's, BOS included). */
function commonPrefix(sequences: Uint32Array[]): number {
    const [first, ...rest] = sequences as [Uint32Array, ...Uint32Array[]];
    let length = 0;
    while (length < first.length && rest.every((tokens) => tokens[length] === first[length])) length++;
    return length;
}

/** "12\t58.33333333%\t[31.9520%, 80.6719%]": llama-perplexity's line after each task. */
export function hellaswagLine(line: HellaswagLine): string {
    return `${line.task}\t${(100 * line.accuracy).toFixed(8)}%\t[${(100 * line.lower).toFixed(4)}%, ${(100 * line.upper).toFixed(4)}%]`;
}

export const hellaswagHeader = "\ntask\tacc_norm\t95% confidence interval";
