import type {KvCacheSettings} from "./kvCacheSettings.js";
import {cacheTypeBlockSize, type FlashAttentionMode} from "./kvCacheTypes.js";
import type {Backend} from "./types.js";

/**
 * What a context is for. The fastest KV-cache setup on the CPU depends on it: a conversation
 * generates deep into its context, a one-off completion mostly evaluates its prompt.
 * `promptTokens` is unknown for `complete --lines` (its prompts arrive after the context is made).
 */
export type KvUse = {kind: "chat"} | {kind: "serve"} | {kind: "complete", maxTokens: number, promptTokens?: number};

export type KvCacheChoice = Required<KvCacheSettings> & {
    /** One clause saying why, for --verbose and doctor. */
    reason: string
};

export type KvUseRequest = {
    /** Absent for what is neither (perplexity, benchmarks): llama.cpp's f16 default. */
    use?: KvUse,
    backend: Backend,
    /** What the user's flags, or the plan fitting memory, already fixed: it wins over the rule. */
    given: KvCacheSettings,
    /** Values per K and V attention head (the GGUF header's); unknown counts as fitting. */
    headSizes: {k?: number, v?: number}
};

/** Tokens a second at depth 0 and at `depth` tokens of context: [prompt, generation] each. */
type SetupFigures = {prompt: readonly [number, number], generate: readonly [number, number]};

/**
 * The CPU figures the rule comes from: llama-bench -p 512 -n 64 on one layer at Mixtral 8x7B's real
 * width (4,096 wide, 32 heads of 128 values, 8 KV heads: `mixtral-4096w-1l-q4_0.gguf`), 2 threads,
 * node-llama-cpp 3.21.1's own CPU library, means of two passes in opposite orders (docs/hardware.md;
 * `npm run bench:kv` measures them again). Two setups:
 *   - `f16`: f16 K and V with flash attention, llama.cpp's default (flash attention "auto" is on
 *     for the CPU backend);
 *   - `q8K`: a q8_0 K cache, an f16 V cache and flash attention off. Without flash attention
 *     llama.cpp multiplies Q by the cached K as an ordinary matrix product, whose q8_0 dot product
 *     is the CPU's fastest, and the library's one-query flash-attention kernel is slow deep in a
 *     context; a q8_0 V cache would need flash attention, so V stays f16.
 * (The third setup, q8_0 K and V with flash attention, is far slower on both counts at this
 * width: 20 prompt and 13.4 generated tok/s at 16k against f16's ~330 and ~57.)
 * Only attention differs between the setups, and it is the same per layer in the real model, so
 * the differences below carry over (the totals do not: the real model has 32 layers).
 */
export const measuredKvFigures = {
    depth: 16384,
    f16: {prompt: [3724, 342], generate: [140, 53]},
    // Generating at depth 0 both measured the same within the noise (126–154 and 150–151 tok/s):
    // q8K is given f16's figure there, so the rule leans to f16.
    q8K: {prompt: [3486, 296], generate: [140, 74]}
} as const satisfies {depth: number, f16: SetupFigures, q8K: SetupFigures};
const m = measuredKvFigures;

/** Seconds one token takes at `depth` tokens of context, between the two measured depths (attention grows linearly with it). */
function secondsAt([atZero, atDepth]: readonly [number, number], depth: number): number {
    return 1 / atZero + (1 / atDepth - 1 / atZero) * depth / m.depth;
}

/** A prompt of P tokens (its tokens at depths 0…P) and up to N generated (at depths P…P+N), in seconds. */
function secondsFor(setup: SetupFigures, promptTokens: number, maxTokens: number): number {
    return promptTokens * secondsAt(setup.prompt, promptTokens / 2) + maxTokens * secondsAt(setup.generate, promptTokens + maxTokens / 2);
}

const times = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}×`;
const depthFigures = `generation at ${m.depth} tokens of context is ${times(m.q8K.generate[1], m.f16.generate[1])} faster with a q8_0 K cache and flash attention off`;
const promptFigures = `prompt evaluation is ${(m.f16.prompt[0] / m.q8K.prompt[0]).toFixed(2)}–${times(m.f16.prompt[1], m.q8K.prompt[1])} faster with f16 and flash attention`;

/**
 * The KV cache for a use: what was given wins; else on the CPU backend, with K heads that q8_0's
 * 32-value blocks fit, `chat` and `serve` get a q8_0 K cache with flash attention off (an f16 V
 * cache), and `complete` gets it only when its answer, generated deep enough, saves more than its
 * prompt costs; everything else keeps llama.cpp's f16 with flash attention auto. GPUs keep f16 (the
 * plan quantizes it when memory needs less).
 */
export function chooseKvCache({use, backend, given, headSizes}: KvUseRequest): KvCacheChoice {
    const f16 = (reason: string, flashAttention: FlashAttentionMode = given.flashAttention ?? "auto"): KvCacheChoice => ({typeK: "f16", typeV: "f16", flashAttention, reason});
    if (given.typeK != null || given.typeV != null)
        return {typeK: given.typeK ?? "f16", typeV: given.typeV ?? "f16", flashAttention: given.flashAttention ?? "auto", reason: "as set by --cache-type-k/-v, or by the plan to fit memory"};
    if (use == null) return f16("llama.cpp's default");
    if (backend !== "cpu") return f16(`on a GPU (${backend}): f16 unless memory needs less`);
    if (headSizes.k != null && headSizes.k % cacheTypeBlockSize.q8_0 !== 0)
        return f16(`this model's attention heads hold ${headSizes.k} values, not a multiple of q8_0's ${cacheTypeBlockSize.q8_0}-value blocks`);
    // A q8_0 K cache only pays without flash attention: asked for, flash attention keeps f16, its fastest cache.
    if (given.flashAttention === "on" || given.flashAttention === "auto")
        return f16(`--flash-attention ${given.flashAttention}: with flash attention f16 is the fastest cache on the CPU`);
    const q8K = (reason: string): KvCacheChoice => ({typeK: "q8_0", typeV: "f16", flashAttention: "off", reason});
    if (use.kind !== "complete") return q8K(`${use.kind} on the CPU: ${depthFigures}`);
    if (use.promptTokens == null) return f16(`complete on the CPU with prompts not known yet: ${promptFigures}`);
    const {promptTokens, maxTokens} = use;
    const shape = `complete on the CPU, ${promptTokens} prompt tokens and up to ${maxTokens} out`;
    return q8KSavesTime(promptTokens, maxTokens)
        ? q8K(`${shape}: ${depthFigures}, which outweighs the f16 cache's faster prompt evaluation`)
        : f16(`${shape}: ${promptFigures}, which outweighs a q8_0 K cache's faster generation at depth`);
}

/** What each command gets (doctor): complete's entry is for a prompt longer than the longest that still gets q8_0 at -n maxTokens. */
export type KvCacheByUse = {
    chat: KvCacheChoice,
    serve: KvCacheChoice,
    complete: KvCacheChoice & {maxTokens: number, q8UpToPromptTokens: number | null}
};

export function kvCacheByUse(request: Omit<KvUseRequest, "use">, completeMaxTokens: number): KvCacheByUse {
    const chat = chooseKvCache({...request, use: {kind: "chat"}});
    const serve = chooseKvCache({...request, use: {kind: "serve"}});
    const complete = (promptTokens: number) => chooseKvCache({...request, use: {kind: "complete", maxTokens: completeMaxTokens, promptTokens}});
    const longest = longestQ8Prompt(completeMaxTokens);
    if (longest == null) {
        const any = complete(longestPromptConsidered);
        return {chat, serve, complete: {...any, maxTokens: completeMaxTokens, q8UpToPromptTokens: null,
            reason: any.typeK === "q8_0" ? `complete on the CPU at -n ${completeMaxTokens}, any prompt: ${depthFigures}` : any.reason}};
    }
    const short = complete(longest);
    const long = complete(longest + 1);
    if (short.typeK === long.typeK && short.typeV === long.typeV)
        return {chat, serve, complete: {...long, maxTokens: completeMaxTokens, q8UpToPromptTokens: null}};
    return {chat, serve, complete: {
        ...long, maxTokens: completeMaxTokens, q8UpToPromptTokens: longest,
        reason: `complete on the CPU at -n ${completeMaxTokens}: a q8_0 K cache for prompts up to ${longest} tokens, f16 for longer ones: ${promptFigures}`
    }};
}

/** Whether the q8_0 K setup's faster generation saves more than its prompt evaluation costs. */
function q8KSavesTime(promptTokens: number, maxTokens: number): boolean {
    return secondsFor(m.q8K, promptTokens, maxTokens) < secondsFor(m.f16, promptTokens, maxTokens);
}

/** Prompts longer than this are not looked at: no Mixtral context holds them. */
const longestPromptConsidered = 1 << 20;

/**
 * The longest prompt `complete -n maxTokens` still gets a q8_0 K cache for (on the CPU, where the
 * rule applies): 0 when not even an empty one does, null when every prompt does. The saving shrinks
 * as the prompt grows (its evaluation costs more the deeper it goes), so it is found by bisection.
 */
export function longestQ8Prompt(maxTokens: number): number | null {
    if (q8KSavesTime(longestPromptConsidered, maxTokens)) return null;
    if (!q8KSavesTime(0, maxTokens)) return 0;
    let saves = 0, costs = longestPromptConsidered;
    while (costs - saves > 1) {
        const middle = Math.floor((saves + costs) / 2);
        if (q8KSavesTime(middle, maxTokens)) saves = middle;
        else costs = middle;
    }
    return saves;
}
