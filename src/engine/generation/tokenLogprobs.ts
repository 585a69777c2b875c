import type {LlamaModel, Token} from "node-llama-cpp";
import type {TokenLogprob} from "../../generator/result.js";

/** OpenAI's floor for a probability that rounds to 0 (JSON has no -Infinity). */
const logprobFloor = -9999;

/**
 * The logprob entry of a sampled token from the model's distribution at its place ([token, p, …] by
 * falling p, as native/nativeSampler.ts's DistributionProbe reads it) with the `top` most likely.
 * `previous` is the token before it: SentencePiece pieces ("▁word") keep their space after it.
 */
export function logprobAt(model: LlamaModel, distribution: readonly number[], token: Token, top: number, previous: Token | undefined): TokenLogprob {
    const textOf = (id: number) => model.detokenize([id as Token], false, previous == null ? undefined : [previous]);
    let probability = 0;
    for (let index = 0; index < distribution.length; index += 2)
        if (distribution[index] === token) {
            probability = distribution[index + 1]!;
            break;
        }
    const alternatives: TokenLogprob["top"] = [];
    for (let index = 0; index < distribution.length && alternatives.length < top; index += 2)
        alternatives.push({token: textOf(distribution[index]!), logprob: logOf(distribution[index + 1]!)});
    return {token: textOf(token), logprob: logOf(probability), top: alternatives};
}

function logOf(probability: number): number {
    return probability > 0 ? Math.max(logprobFloor, Math.log(probability)) : logprobFloor;
}
