/**
 * llama-perplexity's arithmetic at one position (its `log_softmax` overloads), on the distribution
 * the engine hands back: probabilities p_i by token id, the softmax of the logits. log p_i is the
 * logit up to a constant (logit_i − max − log Σ), and every formula there uses logits only through
 * such differences, so log p stands in for the logits; `Math.fround` marks where llama.cpp rounds to
 * float, so the numbers agree to the last printed digit rather than merely closely.
 */

const f = Math.fround;

/** log of the smallest float above 0: a probability that underflowed to 0 in the binding's float softmax. */
export const smallestLogProbability = Math.log(1.401298464324817e-45);

export function logOf(probability: number): number {
    return probability > 0 ? Math.log(probability) : smallestLogProbability;
}

/** The most likely token, the first of equals (llama-perplexity's `imax`). */
export function topToken(probabilities: Float32Array): number {
    let best = 0;
    let bestValue = probabilities[0]!;
    for (let i = 1; i < probabilities.length; i++) {
        if (probabilities[i]! > bestValue) {
            bestValue = probabilities[i]!;
            best = i;
        }
    }
    return best;
}

/** −log p(token): one term of the perplexity's average. */
export function negativeLogLikelihood(probabilities: Float32Array, token: number): number {
    return -logOf(probabilities[token]!);
}

/**
 * The uint16 values a row of a base-logits file holds per vocabulary entry, after two floats (scale,
 * min log-prob) in its first four: log-probabilities within 16 nats of the best, scaled to 0 … 65535
 * (llama-perplexity's `nv` = 2·⌈n_vocab/2⌉ + 4 uint16 a row).
 */
export function rowLength(vocabularySize: number): number {
    return 2 * Math.floor((vocabularySize + 1) / 2) + 4;
}

/** llama.cpp's `nearest_int`: round to nearest, ties to even, in float (the magic-number trick). */
function nearestInt(value: number): number {
    return f(f(value) + 12582912) - 12582912;
}

/**
 * Writes the position's row of a base-logits file into `row` (rowLength(n_vocab) uint16, 4-byte aligned)
 * and returns −log p(token), as llama-perplexity's writer does.
 */
export function quantizeRow(probabilities: Float32Array, token: number, row: Uint16Array, logits: Float32Array): number {
    const n = probabilities.length;
    let maxLogit = -Infinity;
    let minLogit = Infinity;
    let maxProbability = 0;
    for (let i = 0; i < n; i++) {
        const probability = probabilities[i]!;
        const logit = f(logOf(probability));
        logits[i] = logit;
        if (logit > maxLogit) maxLogit = logit;
        if (logit < minLogit) minLogit = logit;
        if (probability > maxProbability) maxProbability = probability;
    }
    minLogit = Math.max(minLogit, f(maxLogit - 16));
    // Σ expf(logit − max): the probabilities over the best one.
    let sumExp = 0;
    for (let i = 0; i < n; i++) sumExp += f(probabilities[i]! / maxProbability);
    const logSumExp = f(Math.log(sumExp));
    const minLogProbability = f(f(minLogit - maxLogit) - logSumExp);
    const scale = f(f(maxLogit - minLogit) / 65535);
    const header = new Float32Array(row.buffer, row.byteOffset, 2);
    header[0] = scale;
    header[1] = minLogProbability;
    if (scale !== 0) {
        const inverseScale = f(1 / scale);
        for (let i = 0; i < n; i++) row[4 + i] = logits[i]! > minLogit ? nearestInt(f(inverseScale * f(logits[i]! - minLogit))) : 0;
    } else {
        row.fill(0, 4, 4 + n);
    }
    row.fill(0, 4 + n);
    return f(f(maxLogit + logSumExp) - logits[token]!);
}

/** The sums llama-perplexity's KL-divergence mode keeps (`kl_divergence_result`). */
export type KldSums = {
    sumNll: number, sumNll2: number,
    sumNllBase: number, sumNllBase2: number, sumNllNllBase: number,
    sumKld: number, sumKld2: number,
    sumPDiff: number, sumPDiff2: number, sumPDiff4: number, maxPDiff: number,
    sameTop: number, count: number
};

export function emptyKldSums(): KldSums {
    return {sumNll: 0, sumNll2: 0, sumNllBase: 0, sumNllBase2: 0, sumNllNllBase: 0, sumKld: 0, sumKld2: 0,
        sumPDiff: 0, sumPDiff2: 0, sumPDiff4: 0, maxPDiff: 0, sameTop: 0, count: 0};
}

/**
 * Compares the position's distribution with the base model's row (from the file) and adds to `sums`;
 * returns the position's KL divergence (base ‖ this model) and Δp = p(token) − p_base(token).
 */
export function compareWithBase(probabilities: Float32Array, row: Uint16Array, token: number, sums: KldSums): {kld: number, pDiff: number} {
    const n = probabilities.length;
    const top = topToken(probabilities);
    const maxProbability = probabilities[top]!;
    const maxLogit = f(logOf(maxProbability));
    let sumExp = 0;
    for (let i = 0; i < n; i++) sumExp += f(probabilities[i]! / maxProbability);
    const logSumExp = f(Math.log(sumExp));
    const header = new Float32Array(row.buffer, row.byteOffset, 2);
    const scale = header[0]!;
    const minLogProbability = header[1]!;

    const nll = f(f(maxLogit + logSumExp) - f(logOf(probabilities[token]!)));
    sums.sumNll += nll;
    sums.sumNll2 += f(nll * nll);
    const nllBase = -f(f(scale * row[4 + token]!) + minLogProbability);
    sums.sumNllBase += nllBase;
    sums.sumNllBase2 += f(nllBase * nllBase);
    sums.sumNllNllBase += f(nll * nllBase);

    const normalizer = f(maxLogit + logSumExp);
    let kld = 0;
    let topBase = -1;
    let topBaseLogProbability = 0;
    for (let i = 0; i < n; i++) {
        const logProbabilityBase = f(f(scale * row[4 + i]!) + minLogProbability);
        if (i === 0 || logProbabilityBase > topBaseLogProbability) {
            topBaseLogProbability = logProbabilityBase;
            topBase = i;
        }
        if (logProbabilityBase > -16) {
            const probabilityBase = f(Math.exp(logProbabilityBase));
            kld += f(probabilityBase * f(f(logProbabilityBase - f(logOf(probabilities[i]!))) + normalizer));
        }
    }
    sums.sumKld += kld;
    sums.sumKld2 += kld * kld;
    sums.count++;
    if (top === topBase) sums.sameTop++;

    const pDiff = f(f(Math.exp(-nll)) - f(Math.exp(-nllBase)));
    sums.sumPDiff += pDiff;
    const pDiff2 = f(pDiff * pDiff);
    sums.sumPDiff2 += pDiff2;
    sums.sumPDiff4 += pDiff2 * pDiff2;
    sums.maxPDiff = Math.max(sums.maxPDiff, Math.abs(pDiff));
    return {kld, pDiff};
}
