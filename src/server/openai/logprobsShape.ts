import type {TokenLogprob} from "../../generator/result.js";

/** A token's UTF-8 bytes, as OpenAI lists them (a lone byte of a split character reads as U+FFFD here). */
function bytesOf(token: string): number[] {
    return [...Buffer.from(token, "utf8")];
}

/** Chat Completions' `logprobs`: `{content: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}], refusal}`. */
export function chatLogprobs(entries: readonly TokenLogprob[]) {
    return {
        content: entries.map((entry) => ({
            token: entry.token, logprob: entry.logprob, bytes: bytesOf(entry.token),
            top_logprobs: entry.top.map((top) => ({token: top.token, logprob: top.logprob, bytes: bytesOf(top.token)}))
        })),
        refusal: null
    };
}

/**
 * The legacy Completions API's `logprobs`: parallel lists of the tokens, their logprobs, the most
 * likely tokens at each place as `{token: logprob}` (the chosen one among them, as OpenAI lists
 * it), and each token's offset in the text from the prompt's start (`offset`: where this part starts).
 */
export function completionLogprobs(entries: readonly TokenLogprob[], offset: number) {
    const textOffset: number[] = [];
    for (const entry of entries) {
        textOffset.push(offset);
        offset += entry.token.length;
    }
    return {
        tokens: entries.map((entry) => entry.token),
        token_logprobs: entries.map((entry) => entry.logprob),
        top_logprobs: entries.map((entry) => Object.fromEntries([...entry.top, {token: entry.token, logprob: entry.logprob}]
            .map((top) => [top.token, top.logprob]))),
        text_offset: textOffset
    };
}
