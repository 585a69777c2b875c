/**
 * One token's probability from the binding without the whole distribution.
 *
 * node-llama-cpp 3.21.1 gives JavaScript no logits. Asked for probabilities it sorts the vocabulary
 * and builds a JS array of 2 × n_vocab numbers (milliseconds a position at 32000 tokens); asked for
 * the chosen token's confidence only, it computes the softmax over the same candidates in C++ and
 * returns one number. So the target token t is made the greedy choice with a logit bias B, and its
 * probability is recovered from the biased softmax:
 *
 *   c = e^(l_t + B) / (Z − e^(l_t) + e^(l_t + B)),  Z = Σ e^(l_i)
 *   ⇒ p_t = e^(l_t) / Z = c / (e^B · (1 − c) + c)
 *
 * exact algebra; numerically it needs 1 − c a visible share of 1 (the binding sums in float32: see
 * leastRemainder), i.e. B not far above −ln p_t. B = −ln p_t makes t the greedy choice for sure (its biased
 * logit is then ln Z ≥ every logit) with c ≈ ½. A B too small lets another token win; one too large
 * leaves c ≈ 1: either way the next try uses what was learnt (see nextBias).
 */

/**
 * 1 − c below this: the answer is kept only as an estimate for the next bias. The binding sums the
 * softmax in float32, largest first: once the biased token's 1 dominates the sum, each other term
 * falls below the sum's rounding step and is lost, so the rest of the mass must stay a visible share.
 */
export const leastRemainder = 0.2;

/** The largest bias tried: a token below e^-80 of the total is scored as that (NLL 80 nats, far beyond any real text). */
export const largestBias = 80;

/** p_t from the confidence c of t chosen under bias B (see the file comment). */
export function probabilityFromBiasedConfidence(confidence: number, bias: number): number {
    const scale = Math.exp(bias);
    return confidence / (scale * (1 - confidence) + confidence);
}

export type BiasedRead = {chosen: boolean, confidence: number};

/**
 * What one read tells: the probability when it is precise enough, else the bias to try next.
 * Not chosen: B < l_max − l_t ≤ −ln p_t, so a larger bias is needed (doubling, at least 6 nats more). Chosen but
 * c ≈ 1: B overshot; the estimate still gives −ln p_t to within a few nats, and −ln p_t + 1 both wins
 * (t's biased logit is then above ln Z) and leaves 1 − c ≈ 1/(1 + e) ≈ 0.27.
 */
export function judgeBiasedRead(read: BiasedRead, bias: number): {probability: number} | {nextBias: number} {
    if (!read.chosen) return {nextBias: Math.min(largestBias, Math.max(bias + 6, 2 * bias))};
    const remainder = 1 - read.confidence;
    // Unbiased, the confidence is the probability itself: nothing to invert, nothing amplified.
    if (bias === 0) return {probability: read.confidence};
    if (remainder >= leastRemainder) return {probability: probabilityFromBiasedConfidence(read.confidence, bias)};
    // c is exactly 1 when every other term fell below half a float32 step of 1 (2^-24): then
    // l_t + B − l_max > ln 2^24 ≈ 16.6, so B − 16.6 still lets t win; step down by that much.
    if (remainder <= 0) return {nextBias: Math.max(0, bias - 16.6)};
    return {nextBias: Math.max(0, Math.min(largestBias, 1 - Math.log(probabilityFromBiasedConfidence(read.confidence, bias))))};
}
