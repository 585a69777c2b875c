/**
 * std::mt19937 and libstdc++'s std::uniform_int_distribution over it, which llama-perplexity's
 * hellaswag mode uses (seed 1) to pick its tasks: the same picks in the same order as a llama.cpp
 * built with GCC ≥ 11 (Lemire's method over the generator's 32 bits; uniform_int_dist.h `_S_nd`).
 */
export class Mt19937 {
    private readonly state = new Uint32Array(624);
    private index = 624;

    constructor(seed: number) {
        this.state[0] = seed >>> 0;
        for (let i = 1; i < 624; i++) {
            const previous = this.state[i - 1]! ^ (this.state[i - 1]! >>> 30);
            // 1812433253 · previous + i, modulo 2^32, without losing bits to floating point.
            this.state[i] = (Math.imul(1812433253, previous) + i) >>> 0;
        }
    }

    next(): number {
        if (this.index >= 624) this.twist();
        let y = this.state[this.index++]!;
        y ^= y >>> 11;
        y = (y ^ ((y << 7) & 0x9d2c5680)) >>> 0;
        y = (y ^ ((y << 15) & 0xefc60000)) >>> 0;
        return (y ^ (y >>> 18)) >>> 0;
    }

    private twist() {
        const state = this.state;
        for (let i = 0; i < 624; i++) {
            const y = (state[i]! & 0x80000000) | (state[(i + 1) % 624]! & 0x7fffffff);
            state[i] = state[(i + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
        }
        this.index = 0;
    }
}

/** `std::uniform_int_distribution<size_t>(0, n − 1)(rng)` as libstdc++ computes it. */
export function uniformBelow(rng: Mt19937, n: number): number {
    const range = BigInt(n);
    let product = BigInt(rng.next()) * range;
    let low = product & 0xffffffffn;
    if (low < range) {
        const threshold = ((1n << 32n) - range) % range;
        while (low < threshold) {
            product = BigInt(rng.next()) * range;
            low = product & 0xffffffffn;
        }
    }
    return Number(product >> 32n);
}
