import type {LlamaContextSequence} from "node-llama-cpp";
import {EngineError} from "../../errors.js";
import type {ChunkScorer, ScoredSequence} from "../../quality/chunkScorer.js";
import type {OpenedModel} from "../load/openModel.js";
import {canSampleNatively, nativeContextOf, nativeSequenceIdOf, type NativeContext} from "../native/nativeContext.js";
import {BiasedConfidenceProbe, DistributionProbe} from "../native/nativeSampler.js";
import {judgeBiasedRead, largestBias} from "./biasedConfidence.js";
import {ThreadPolicy} from "../native/threadPolicy.js";
import {readInOrder} from "../native/logitsReads.js";
import {vocabularySizeOf} from "../load/vocabularySize.js";

/**
 * The perplexity driver: decodes whole chunks, one sequence each, with logits for the scored half, as
 * llama-perplexity fills its batches (tools/perplexity/perplexity.cpp), and reads back each scored
 * position. The binding offers no raw logits to JavaScript, so there are two reads:
 * - the whole distribution (KL divergence, base files, hellaswag): a greedy sampler asked for
 *   probabilities (native/nativeSampler.ts's DistributionProbe) returns the softmax of the raw logits,
 *   sorted, as a JS array of [token, p, …] — building that array costs milliseconds at 32000 tokens;
 * - the next token's probability only (perplexity): a biased greedy read returns one number
 *   (biasedConfidence.ts), the sort still native but no array: about 2.5× less time per position.
 * A few reads are kept in flight, each with its own probe, so the native side works on the next
 * position (on another core) while JavaScript handles the last; the first of a batch runs alone
 * (native/logitsReads.ts: llama.cpp puts reordered output rows back on the first read).
 */
const readsInFlight = 4;

export function createChunkScorer(opened: OpenedModel): ChunkScorer {
    const {context, model} = opened;
    const native = nativeContextOf(context);
    if (native == null || !canSampleNatively(opened.sequence))
        throw new EngineError("This node-llama-cpp build does not expose the native calls perplexity needs.", {
            hint: "mixtral pins node-llama-cpp 3.21.1; reinstall mixtral so that its own copy is used."
        });
    // Every sequence of the context, so that chunks (or hellaswag's endings) decode together (llama-perplexity's n_seq).
    const sequences: LlamaContextSequence[] = [opened.sequence];
    while (context.sequencesLeft > 0) sequences.push(context.getSequence());
    const sequenceIds = sequences.map((sequence) => nativeSequenceIdOf(sequence));
    if (sequenceIds.some((id) => id == null)) throw new EngineError("The context's sequences have no native ids.", {hint: "Reinstall mixtral (node-llama-cpp 3.21.1 is pinned)."});
    const vocabularySize = vocabularySizeOf(opened.file);
    const probes = Array.from({length: readsInFlight}, () => DistributionProbe.open(opened.sequence));
    const nextTokenProbes = Array.from({length: readsInFlight}, () => BiasedConfidenceProbe.open(opened.sequence));
    /** The bias the next read starts with: the last position's −ln p (text's NLL moves slowly on average). */
    /** Where the next read's bias starts (see runningWeight); a uniform distribution's −ln p at first. */
    let typicalNll = Math.log(vocabularySize);
    /**
     * Each read starts at the text's running −ln p (an average over the last ~10 positions): the 212M
     * model's −ln p jumps by several nats between neighbours, and a start above the token's own −ln p
     * by more than ~1.4 nats, or below its gap to the best token, takes a second read. Measured there:
     * 1.9 reads a position starting at the last position's −ln p + 0.5, 1.7 at the running average
     * (2.2 and 2.5 at 3 and 5 below it).
     */
    const runningWeight = 0.1;
    const probabilities = new Float32Array(vocabularySize);
    const timings = {decodeMs: 0, readMs: 0};

    return {
        vocabularySize,
        sequenceCount: sequences.length,
        timings,
        bos: model.tokens.shouldPrependBosToken && model.tokens.bos != null ? model.tokens.bos : undefined,
        tokenize(text) {
            const tokens = model.tokenize(text, false);
            const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : undefined;
            return Uint32Array.from(bos == null ? tokens : [bos, ...tokens]);
        },
        async scoreSequences(scored, batchSize, onPosition) {
            await decodeInBatches(scored, batchSize, (reads) => readDistributions(native, reads, (read, pairs) => {
                if (pairs.length !== 2 * vocabularySize)
                    throw new EngineError(`The model returned ${pairs.length / 2} probabilities where its vocabulary has ${vocabularySize} tokens.`);
                for (let i = 0; i < pairs.length; i += 2) probabilities[pairs[i]!] = pairs[i + 1]!;
                onPosition(read.sequence, read.position, probabilities);
            }));
        },
        async scoreNextTokens(scored, batchSize, onPosition) {
            await decodeInBatches(scored, batchSize, (reads) => readNextTokens(native, scored, reads, onPosition));
        },
        dispose() {
            for (const probe of [...probes, ...nextTokenProbes]) probe.dispose();
        }
    };

    async function decodeInBatches(scored: readonly ScoredSequence[], batchSize: number, readBatch: (reads: Read[]) => Promise<void>) {
        if (scored.length > sequences.length) throw new EngineError(`${scored.length} sequences at once, but the context has ${sequences.length}.`);
        ThreadPolicy.of(context)?.reset();
        for (const id of sequenceIds) native!.disposeSequence(id!);
        const longest = Math.max(0, ...scored.map((sequence) => sequence.tokens.length));
        for (let batchStart = 0; batchStart < longest; batchStart += batchSize) {
            const decodeStarted = performance.now();
            const reads = fillBatch(native!, scored, sequenceIds as number[], batchStart, batchSize);
            await native!.decodeBatch();
            const readStarted = performance.now();
            timings.decodeMs += readStarted - decodeStarted;
            await readBatch(reads);
            timings.readMs += performance.now() - readStarted;
        }
    }

    /** The batch's positions whose distributions are read, in sequence then position order. */
    type Read = {sequence: number, position: number, batchIndex: number};

    function fillBatch(native: NativeContext, scored: readonly ScoredSequence[], ids: number[], batchStart: number, batchSize: number): Read[] {
        const sizes = scored.map((sequence) => Math.max(0, Math.min(batchSize, sequence.tokens.length - batchStart)));
        native.initBatch(sizes.reduce((sum, size) => sum + size, 0));
        const reads: Read[] = [];
        scored.forEach((sequence, index) => {
            const size = sizes[index]!;
            if (size === 0) return;
            const outputs: number[] = [];
            for (let k = 0; k < size; k++) if (batchStart + k >= sequence.outputFrom) outputs.push(k);
            const batchIndexes = native.addToBatch(ids[index]!, batchStart, sequence.tokens.subarray(batchStart, batchStart + size), Uint32Array.from(outputs));
            outputs.forEach((k, l) => {
                if (batchStart + k < sequence.readUntil) reads.push({sequence: index, position: batchStart + k, batchIndex: batchIndexes[l]!});
            });
        });
        return reads;
    }

    function readDistributions(native: NativeContext, reads: Read[], use: (read: Read, pairs: readonly number[]) => void) {
        return readInOrder(reads, readsInFlight, (read, slot) => probes[slot]!.read(native, read.batchIndex), use);
    }

    /**
     * Each read position's probability of the token that follows it in its sequence, a few reads in
     * flight as for distributions, each trying biases until one is precise (biasedConfidence.ts); a
     * position no bias settles (never seen: kept as a guard) is read from its whole distribution.
     */
    async function readNextTokens(native: NativeContext, scored: readonly ScoredSequence[], reads: Read[], use: (sequence: number, position: number, probability: number) => void) {
        const readOne = async (read: Read, slot: number): Promise<number> => {
            const probe = nextTokenProbes[slot]!;
            const next = scored[read.sequence]!.tokens[read.position + 1]!;
            // Taken when the read starts, which is in order (below): the same text gives the same reads.
            let bias = Math.max(0, Math.min(largestBias, typicalNll));
            for (let attempt = 0; attempt < 8; attempt++) {
                const verdict = judgeBiasedRead(await probe.read(native, read.batchIndex, next, bias), bias);
                if ("probability" in verdict) return verdict.probability;
                bias = verdict.nextBias;
            }
            const pairs = await probes[slot]!.read(native, read.batchIndex);
            for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === next) return pairs[i + 1]!;
            return 0;
        };
        await readInOrder(reads, readsInFlight, readOne, (read, probability) => {
            // Reads end in any order when the pool runs several; the running value moves in the text's order.
            typicalNll += runningWeight * (Math.min(largestBias, probability > 0 ? -Math.log(probability) : largestBias) - typicalNll);
            use(read.sequence, read.position, probability);
        });
    }
}
