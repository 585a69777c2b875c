import {LlamaGrammarEvaluationState, type Llama, type LlamaGrammar, type LlamaModel} from "node-llama-cpp";
import {UsageError} from "../../errors.js";
import {grammarAcceptsNext} from "../native/nativeContext.js";
import type {StopReason} from "../../generator/result.js";
import type {GrammarSpec} from "../../generator/sampling.js";

/**
 * One generation's grammar: the evaluation state the native sampler advances with every sampled
 * token (node-llama-cpp's AddonSampler accepts each token into it), and a question for it.
 */
export type GrammarRun = {
    readonly spec: GrammarSpec,
    /** Goes into the sampler config (`grammarEvaluationState`), for the direct loop and evaluate() alike. */
    readonly state: LlamaGrammarEvaluationState,
    /** True when the text so far is a complete match: llama.cpp would accept the end token now. */
    isComplete(): boolean
};

// The native grammar is parsed once per text and Llama instance; each generation gets a fresh state.
const parsedGrammars = new WeakMap<Llama, Map<string, Promise<LlamaGrammar>>>();

export async function openGrammarRun(model: LlamaModel, spec: GrammarSpec): Promise<GrammarRun> {
    const llama = model.llama;
    let cache = parsedGrammars.get(llama);
    if (cache == null) parsedGrammars.set(llama, cache = new Map());
    let grammar = cache.get(spec.gbnf);
    if (grammar == null) {
        grammar = llama.createGrammar({grammar: spec.gbnf});
        cache.set(spec.gbnf, grammar);
        grammar.catch(() => cache.delete(spec.gbnf));
    }
    let parsed: LlamaGrammar;
    try {
        parsed = await grammar;
    } catch (error) {
        // src/grammar/parseGbnf.ts rejects what llama.cpp rejects before the model loads; this is the backstop.
        throw new UsageError("llama.cpp could not parse the grammar.", {cause: error});
    }
    const state = new LlamaGrammarEvaluationState({model, grammar: parsed});
    const endToken = model.tokens.eos ?? model.tokens.eot;
    const acceptsNext = grammarAcceptsNext(llama, state);
    return {
        spec,
        state,
        isComplete: () => acceptsNext != null && endToken != null && acceptsNext(endToken)
    };
}

/**
 * Whether constrained output ended complete (for GenerationResult.complete): the model ended it, or
 * --max-tokens fell exactly on its end. A stop string, a full context or an abort cut it.
 */
export function completeness(run: GrammarRun | undefined, stopReason: StopReason): {complete?: boolean} {
    if (run == null) return {};
    return {complete: stopReason === "eos" || (stopReason === "maxTokens" && run.isComplete())};
}

/** After each accepted token: true when a closed grammar (a JSON object, array, string) is complete, so nothing can follow. */
export function endsNow(run: GrammarRun | undefined): boolean {
    return run?.spec.closed === true && run.isComplete();
}
