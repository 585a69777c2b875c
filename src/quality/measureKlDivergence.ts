import {checkBaseMatches, rowsPerChunk, type BaseLogitsReader} from "./baseLogitsFile.js";
import {checkBatchSize, chunkTokens, positionsPerDecode, sequencesFor, type ChunkPlan} from "./chunkPlan.js";
import type {ChunkScorer} from "./chunkScorer.js";
import {chunkGroups, checkAborted, runTotals, type ChunkProgress, type RunTotals} from "./measurePerplexity.js";
import {compareWithBase, emptyKldSums, rowLength} from "./positionMath.js";
import {kldChunkLine, kldSummary, type KldChunkLine, type KldSummary} from "./perplexityStatistics.js";

export type KlDivergenceOptions = {
    /** -c as given: it must repeat the file's context, which is the run's. */
    contextSize?: number,
    batchSize: number,
    /** --chunks: at most this many of the file's chunks (llama-perplexity always runs them all). */
    chunks?: number,
    signal?: AbortSignal,
    onPlan?: (plan: ChunkPlan) => void,
    /** After each chunk: the line llama-perplexity prints for it. */
    onChunk?: (progress: ChunkProgress & {line: KldChunkLine}) => void
};

export type KlDivergenceResult = RunTotals & {
    /** The last chunk's line: the running values over every token. */
    line: KldChunkLine,
    /** The closing blocks; undefined under 100 scored tokens, as llama-perplexity prints none. */
    summary: KldSummary | undefined,
    baseFile: string
};

/**
 * llama-perplexity's `kl_divergence()`: the model evaluates the base file's tokens, chunk by chunk
 * like the base run did, and each scored position's distribution is compared with the base model's
 * row from the file.
 */
export async function measureKlDivergence(scorer: ChunkScorer, base: BaseLogitsReader, options: KlDivergenceOptions): Promise<KlDivergenceResult> {
    checkBaseMatches(base, scorer.vocabularySize, options.contextSize);
    const contextSize = base.contextSize;
    checkBatchSize(contextSize, options.batchSize);
    const sequences = sequencesFor(contextSize, options.batchSize);
    const chunkCount = options.chunks == null || options.chunks < 0 ? base.chunkCount : Math.min(options.chunks, base.chunkCount);
    const first = Math.floor(contextSize / 2);
    const plan: ChunkPlan = {contextSize, batchSize: Math.min(options.batchSize, contextSize * sequences), chunkCount, sequences, first, scoredPerChunk: rowsPerChunk(contextSize)};
    options.onPlan?.(plan);

    const nv = rowLength(scorer.vocabularySize);
    const sums = emptyKldSums();
    const kldValues = new Float32Array(chunkCount * plan.scoredPerChunk);
    const pDiffValues = new Float32Array(chunkCount * plan.scoredPerChunk);
    let line = kldChunkLine(0, sums);
    const started = performance.now();
    for (const [start, count] of chunkGroups(chunkCount, sequences)) {
        checkAborted(options.signal);
        const chunks = Array.from({length: count}, (_, index) => chunkTokens(base.tokens, start + index, contextSize, scorer.bos));
        const rows: Uint16Array[] = [];
        for (let index = 0; index < count; index++) rows.push(await base.readRows(start + index));
        // Positions arrive chunk by chunk, in order: the sums grow as llama-perplexity's do, and each chunk's line is printed when its last position is in.
        await scorer.scoreSequences(chunks.map((tokens) => ({tokens, outputFrom: first, readUntil: contextSize - 1})), positionsPerDecode(plan.batchSize, count), (chunk, position, probabilities) => {
            const index = position - first;
            const next = base.tokens[(start + chunk) * contextSize + position + 1]!;
            const {kld, pDiff} = compareWithBase(probabilities, rows[chunk]!.subarray(index * nv, (index + 1) * nv), next, sums);
            const at = (start + chunk) * plan.scoredPerChunk + index;
            kldValues[at] = kld;
            pDiffValues[at] = pDiff;
            if (index === plan.scoredPerChunk - 1) {
                line = kldChunkLine(start + chunk + 1, sums);
                options.onChunk?.({chunk: start + chunk + 1, chunkCount, elapsedMs: performance.now() - started, line});
            }
        });
    }
    checkAborted(options.signal);
    return {
        ...runTotals(plan, chunkCount, started, scorer),
        line,
        summary: kldSummary(sums, kldValues, pDiffValues),
        baseFile: base.path
    };
}
