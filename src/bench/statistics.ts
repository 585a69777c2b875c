import {mean, sampleStdDev} from "../statistics.js";

/** Tokens per second of each sample: llama-bench counts n_prompt + n_gen tokens per sample. */
export function tokensPerSecondSamples(samplesNs: readonly number[], tokens: number): number[] {
    return samplesNs.map((ns) => ns > 0 ? 1e9 * tokens / ns : 0);
}

export type Summary = {avgNs: number, stddevNs: number, avgTs: number, stddevTs: number, samplesTs: number[]};

/** llama-bench keeps nanoseconds as whole numbers (uint64), and tok/s as doubles. */
export function summarize(samplesNs: readonly number[], tokens: number): Summary {
    const samplesTs = tokensPerSecondSamples(samplesNs, tokens);
    return {
        avgNs: Math.floor(mean(samplesNs)),
        stddevNs: Math.floor(sampleStdDev(samplesNs)),
        avgTs: mean(samplesTs),
        stddevTs: sampleStdDev(samplesTs),
        samplesTs
    };
}
