/**
 * Deterministic pseudo-random weights. Each tensor gets its own stream seeded from (model seed, tensor
 * name), so a tensor's values do not depend on which tensors were written before it.
 */
import {mulberry32} from "../../src/bench/mulberry32.js";

// Test fixtures (loraFixtures.ts) draw their own streams from it.
export {mulberry32};

/** FNV-1a of the name mixed with the seed, so every tensor has a distinct stream. */
export function tensorSeed(seed: number, name: string): number {
    let hash = (0x811C9DC5 ^ seed) >>> 0;
    for (let i = 0; i < name.length; i++) {
        hash ^= name.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash;
}

/**
 * Fills `out` with normal(mean, std) samples by Marsaglia's polar form of the Box-Muller transform: both
 * outputs of each pair are used and no sin/cos is needed, which makes it about twice as fast as the
 * trigonometric form (it matters when writing billions of weights).
 */
export function normalFiller(random: () => number): (out: Float32Array, mean: number, std: number) => void {
    let spare: number | undefined;
    return (out, mean, std) => {
        let i = 0;
        if (spare !== undefined && out.length > 0) {
            out[i++] = mean + std * spare;
            spare = undefined;
        }
        while (i < out.length) {
            let u: number, v: number, s: number;
            do {
                u = 2 * random() - 1;
                v = 2 * random() - 1;
                s = u * u + v * v;
            } while (s >= 1 || s === 0);
            const scale = Math.sqrt(-2 * Math.log(s) / s);
            out[i++] = mean + std * u * scale;
            if (i < out.length)
                out[i++] = mean + std * v * scale;
            else
                spare = v * scale;
        }
    };
}

export type GaussianTensorOptions = {
    seed: number,
    name: string,
    elementCount: number,
    std: number,
    mean?: number,
    /** this many leading values are exactly 0 (e.g. output rows of tokens that must never be chosen) */
    zeroPrefix?: number,
    chunkSize?: number
};

/** Yields the values of one tensor in chunks, reusing one buffer (the GGUF writer allows that). */
export function* gaussianTensor({seed, name, elementCount, std, mean = 0, zeroPrefix = 0, chunkSize = 1 << 16}: GaussianTensorOptions): Generator<Float32Array> {
    const fill = normalFiller(mulberry32(tensorSeed(seed, name)));
    const buffer = new Float32Array(Math.min(chunkSize, elementCount));
    for (let start = 0; start < elementCount; start += buffer.length) {
        const chunk = buffer.subarray(0, Math.min(buffer.length, elementCount - start));
        fill(chunk, mean, std);
        const zeroEnd = Math.min(zeroPrefix - start, chunk.length);
        if (zeroEnd > 0)
            chunk.fill(0, 0, zeroEnd);
        yield chunk;
    }
}
