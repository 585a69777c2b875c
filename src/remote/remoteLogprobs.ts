import type {TokenLogprob} from "../generator/result.js";

/**
 * A choice's `logprobs` as a server sends them, as the engine's entries: Chat Completions'
 * `{content: [{token, logprob, top_logprobs: [{token, logprob}]}]}` (llama-server answers
 * /completions in this shape too) or the legacy Completions API's parallel lists, whose
 * `top_logprobs` maps token → logprob and lists the chosen token too (then there may be one
 * more than asked: the `top` most likely are kept).
 */
export function logprobsOfChoice(value: unknown, top: number): TokenLogprob[] {
    if (value == null || typeof value !== "object") return [];
    const {content, tokens, token_logprobs: tokenLogprobs, top_logprobs: topLogprobs} = value as Record<string, unknown>;
    if (Array.isArray(content)) {
        return content.map((entry: {token?: unknown, logprob?: unknown, top_logprobs?: unknown}) => ({
            token: String(entry.token ?? ""),
            logprob: Number(entry.logprob),
            top: (Array.isArray(entry.top_logprobs) ? entry.top_logprobs as {token?: unknown, logprob?: unknown}[] : [])
                .slice(0, top).map((alternative) => ({token: String(alternative.token ?? ""), logprob: Number(alternative.logprob)}))
        }));
    }
    if (!Array.isArray(tokens) || !Array.isArray(tokenLogprobs)) return [];
    return tokens.map((token, index) => {
        const map = Array.isArray(topLogprobs) ? topLogprobs[index] as Record<string, number> | null : null;
        const alternatives = Object.entries(map ?? {}).map(([text, logprob]) => ({token: text, logprob: Number(logprob)}))
            .sort((a, b) => b.logprob - a.logprob).slice(0, top);
        return {token: String(token), logprob: Number(tokenLogprobs[index]), top: alternatives};
    });
}
