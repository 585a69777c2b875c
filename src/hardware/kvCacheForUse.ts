import type {KvCacheSettings} from "./kvCacheSettings.js";
import {cacheTypeBlockSize} from "./kvCacheTypes.js";
import type {Backend} from "./types.js";

/**
 * What a context is for. The fastest KV-cache type on the CPU depends on it: a conversation
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

/**
 * The CPU figures the rule comes from: the 212M Mixtral-shaped Q4_0 model, one thread, flash
 * attention on (docs/hardware.md; `npm run bench:kv`, and llama-bench on the same file agrees).
 *   - A 4,200-token prompt is evaluated in 10.0 s with an f16 cache, 24.2 s with q8_0 (2.4×): for a
 *     whole batch of queries llama.cpp's CPU flash attention has a fast path with f16 values only.
 *   - Generation at 4,096 tokens of context runs at 18.0 tok/s with f16 (17.8–18.6 ours, 18.0
 *     llama-bench), 42.4–56.1 with q8_0 (57.6 llama-bench): 2.3–3.2×; its one-query kernel reads an
 *     f16 cache slower than a q8_0 one. The slow end, 42.4, is used, so the rule leans to f16.
 * Both differences are attention: its cost grows with the cached tokens each new token looks at
 * (a "cell"), and the cache type changes nothing else. Per cell:
 */
export const measuredKvFigures = {
    promptTokens: 4200, promptSecondsF16: 10.0, promptSecondsQ8: 24.2,
    depth: 4096, generateTokensPerSecondF16: 18.0, generateTokensPerSecondQ8: 42.4
} as const;
const m = measuredKvFigures;
/** Seconds q8_0 adds per cell of prompt evaluation (a prompt of P tokens looks at P²/2 cells): 1.6 µs. */
const promptCostPerCell = (m.promptSecondsQ8 - m.promptSecondsF16) / (m.promptTokens * m.promptTokens / 2);
/** Seconds q8_0 saves per cell of generation (a token at depth d looks at d cells): 7.8 µs. */
const generationSavingPerCell = (1 / m.generateTokensPerSecondF16 - 1 / m.generateTokensPerSecondQ8) / m.depth;

const promptRatio = (m.promptSecondsQ8 / m.promptSecondsF16).toFixed(1);
const depthFigures = `generation at ${m.depth} tokens of context is 2.3–3.2× faster with q8_0 than with f16`;

/**
 * The KV cache for a use: what was given wins; else on the CPU backend, with flash attention and
 * heads that q8_0's 32-value blocks fit, `chat` and `serve` get q8_0 and `complete` gets q8_0 only
 * when its answer, generated deep enough, saves more than its prompt costs; everything else keeps
 * llama.cpp's f16. GPUs keep f16 (the plan quantizes it when memory needs less).
 */
export function chooseKvCache({use, backend, given, headSizes}: KvUseRequest): KvCacheChoice {
    const flashAttention = given.flashAttention ?? "auto";
    const f16 = (reason: string): KvCacheChoice => ({typeK: "f16", typeV: "f16", flashAttention, reason});
    if (given.typeK != null || given.typeV != null)
        return {typeK: given.typeK ?? "f16", typeV: given.typeV ?? "f16", flashAttention, reason: "as set by --cache-type-k/-v, or by the plan to fit memory"};
    if (use == null) return f16("llama.cpp's default");
    if (backend !== "cpu") return f16(`on a GPU (${backend}): f16 unless memory needs less`);
    if (flashAttention === "off") return f16("--flash-attention off, and a q8_0 V cache needs flash attention");
    const misfit = ([["K", headSizes.k], ["V", headSizes.v]] as const).find(([, size]) => size != null && size % cacheTypeBlockSize.q8_0 !== 0);
    if (misfit != null)
        return f16(`this model's attention heads hold ${misfit[1]} values, not a multiple of q8_0's ${cacheTypeBlockSize.q8_0}-value blocks`);
    const q8 = (reason: string): KvCacheChoice => ({typeK: "q8_0", typeV: "q8_0", flashAttention: given.flashAttention ?? "on", reason});
    if (use.kind !== "complete") return q8(`${use.kind} on the CPU: ${depthFigures}`);
    if (use.promptTokens == null) return f16(`complete on the CPU with prompts not known yet: prompt evaluation is ${promptRatio}× faster with f16`);
    const {promptTokens, maxTokens} = use;
    if (q8SavesTime(promptTokens, maxTokens))
        return q8(`complete on the CPU, ${promptTokens} prompt tokens and up to ${maxTokens} out: ${depthFigures}, which outweighs its ${promptRatio}× slower prompt evaluation`);
    return f16(`complete on the CPU, ${promptTokens} prompt tokens and up to ${maxTokens} out: prompt evaluation is ${promptRatio}× faster with f16, which outweighs q8_0's faster generation at depth`);
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
    const longest = longestQ8Prompt(completeMaxTokens);
    const complete = (promptTokens: number) => chooseKvCache({...request, use: {kind: "complete", maxTokens: completeMaxTokens, promptTokens}});
    const short = complete(longest);
    const long = complete(longest + 1);
    if (short.typeK === long.typeK && short.typeV === long.typeV)
        return {chat, serve, complete: {...long, maxTokens: completeMaxTokens, q8UpToPromptTokens: null}};
    return {chat, serve, complete: {
        ...long, maxTokens: completeMaxTokens, q8UpToPromptTokens: longest,
        reason: `complete on the CPU at -n ${completeMaxTokens}: q8_0 for prompts up to ${longest} tokens, f16 for longer ones, ` +
            `whose evaluation is ${promptRatio}× faster with f16`
    }};
}

/** Whether q8_0's generation saves more than its prompt evaluation costs: P prompt tokens, then up to G generated at depths P…P+G. */
function q8SavesTime(promptTokens: number, maxTokens: number): boolean {
    const promptCells = promptTokens * promptTokens / 2;
    const generationCells = maxTokens * (promptTokens + maxTokens / 2);
    return generationCells * generationSavingPerCell > promptCells * promptCostPerCell;
}

/**
 * The longest prompt `complete -n maxTokens` still gets a q8_0 cache for (on the CPU, where the
 * rule applies): the root of promptCost·P²/2 = saving·G·(P + G/2). About 2,600 tokens at -n 256.
 */
export function longestQ8Prompt(maxTokens: number): number {
    const a = promptCostPerCell / 2;
    const b = generationSavingPerCell * maxTokens;
    const c = generationSavingPerCell * maxTokens * maxTokens / 2;
    return Math.floor((b + Math.sqrt(b * b + 4 * a * c)) / (2 * a));
}
