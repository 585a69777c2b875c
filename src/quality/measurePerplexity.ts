import {InterruptedError} from "../errors.js";
import {BaseLogitsWriter, rowsPerChunk} from "./baseLogitsFile.js";
import {chunkTokens, planChunks, positionsPerDecode, type ChunkPlan} from "./chunkPlan.js";
import type {ChunkScorer} from "./chunkScorer.js";
import {logOf, quantizeRow, rowLength} from "./positionMath.js";
import {NllSums, type PerplexityEstimate} from "./perplexityStatistics.js";

export type PerplexityOptions = {
    contextSize: number,
    batchSize: number,
    /** --chunks: at most this many. */
    chunks?: number,
    /** --kl-divergence-base without --kl-divergence: write the model's log-probabilities here for later comparisons. */
    writeBase?: string,
    signal?: AbortSignal,
    onPlan?: (plan: ChunkPlan, tokenCount: number) => void,
    /** After each chunk (1-based), with the running perplexity llama-perplexity prints as `[i]`. */
    onChunk?: (progress: ChunkProgress & {ppl: number}) => void
};

export type ChunkProgress = {chunk: number, chunkCount: number, elapsedMs: number};

/** Timings and sizes every mode reports. */
export type RunTotals = {
    chunks: number,
    contextSize: number,
    batchSize: number,
    sequences: number,
    /** Tokens decoded: chunks × n_ctx. */
    tokensEvaluated: number,
    /** Tokens whose probability counted: chunks × (n_ctx − 1 − n_ctx/2). */
    tokensScored: number,
    seconds: number,
    /** Tokens decoded (and their distributions read) per second. */
    tokensPerSecond: number,
    /** Of `seconds`: in llama_decode, and reading the distributions back (with the arithmetic on them). */
    decodeSeconds: number,
    readSeconds: number
};

export type PerplexityResult = RunTotals & {
    /** The text's tokens (BOS included when the model adds it). */
    tokens: number,
    /** undefined when the variance came out negative (llama-perplexity then prints an error instead). */
    estimate: PerplexityEstimate | undefined,
    ppl: number,
    baseFile?: string
};

/** Groups of chunks decoded together: [first chunk, count]. */
export function* chunkGroups(chunkCount: number, sequences: number): Generator<[number, number]> {
    for (let start = 0; start < chunkCount; start += sequences) yield [start, Math.min(sequences, chunkCount - start)];
}

export function runTotals(plan: ChunkPlan, chunks: number, startedMs: number, scorer: ChunkScorer): RunTotals {
    const seconds = (performance.now() - startedMs) / 1000;
    return {
        chunks, contextSize: plan.contextSize, batchSize: plan.batchSize, sequences: plan.sequences,
        tokensEvaluated: chunks * plan.contextSize, tokensScored: chunks * plan.scoredPerChunk,
        seconds, tokensPerSecond: chunks * plan.contextSize / seconds,
        decodeSeconds: scorer.timings.decodeMs / 1000, readSeconds: scorer.timings.readMs / 1000
    };
}

export function checkAborted(signal: AbortSignal | undefined) {
    if (signal?.aborted === true) throw new InterruptedError();
}

/** llama-perplexity's `perplexity()` (the default, stride-less mode), optionally writing the base-logits file. */
export async function measurePerplexity(scorer: ChunkScorer, text: string, options: PerplexityOptions): Promise<PerplexityResult> {
    const tokens = scorer.tokenize(text);
    const plan = planChunks({tokenCount: tokens.length, contextSize: options.contextSize, batchSize: options.batchSize, chunks: options.chunks});
    options.onPlan?.(plan, tokens.length);
    const nv = rowLength(scorer.vocabularySize);
    const writer = options.writeBase == null ? undefined
        : await BaseLogitsWriter.create(options.writeBase, {contextSize: plan.contextSize, vocabularySize: scorer.vocabularySize, chunkCount: plan.chunkCount}, tokens);
    const sums = new NllSums();
    const started = performance.now();
    try {
        const logits = new Float32Array(scorer.vocabularySize);
        for (const [start, count] of chunkGroups(plan.chunkCount, plan.sequences)) {
            checkAborted(options.signal);
            const chunks = Array.from({length: count}, (_, index) => chunkTokens(tokens, start + index, plan.contextSize, scorer.bos));
            const rows = writer == null ? [] : chunks.map(() => new Uint16Array(rowsPerChunk(plan.contextSize) * nv));
            const chunkSums = chunks.map(() => [] as number[]);
            const scored = chunks.map((tokens) => ({tokens, outputFrom: plan.first, readUntil: plan.contextSize - 1}));
            const perDecode = positionsPerDecode(plan.batchSize, count);
            // The next token of a position is the chunk's own next token (readUntil stops one short of its end).
            if (writer == null) await scorer.scoreNextTokens(scored, perDecode, (chunk, _position, probability) => chunkSums[chunk]!.push(-logOf(probability)));
            else await scorer.scoreSequences(scored, perDecode, (chunk, position, probabilities) => {
                const next = tokens[(start + chunk) * plan.contextSize + position + 1]!;
                chunkSums[chunk]!.push(quantizeRow(probabilities, next, rows[chunk]!.subarray((position - plan.first) * nv, (position - plan.first + 1) * nv), logits));
            });
            // Chunk by chunk, as llama-perplexity adds them and prints its running value.
            for (let index = 0; index < count; index++) {
                for (const nll of chunkSums[index]!) sums.add(nll);
                if (writer != null) await writer.writeRows(rows[index]!);
                options.onChunk?.({chunk: start + index + 1, chunkCount: plan.chunkCount, elapsedMs: performance.now() - started, ppl: sums.ppl});
            }
        }
        checkAborted(options.signal);
        await writer?.commit();
    } catch (error) {
        await writer?.discard();
        throw error;
    }
    return {
        ...runTotals(plan, plan.chunkCount, started, scorer),
        tokens: tokens.length,
        estimate: sums.final(),
        ppl: sums.ppl,
        baseFile: options.writeBase
    };
}
