import type {LlamaModel, Token} from "node-llama-cpp";
import type {GenerationResult, StopReason, TokenLogprob} from "../../generator/result.js";
import type {SamplingOptions} from "../../generator/sampling.js";
import {completeness, endsNow, openGrammarRun, type GrammarRun} from "./grammarRun.js";
import {librarySamplerSettings, type LibrarySamplerSettings} from "./samplerSettings.js";
import {StopTextFilter} from "./stopText.js";
import {logprobAt} from "./tokenLogprobs.js";
import {TokenTextDecoder} from "./tokenTextDecoder.js";

export type GenerationCallbacks = {
    /** Text as it is generated, whole characters only, stop strings held back. */
    onText?: (text: string) => void,
    /** Each generated token (EOS excluded): chat keeps them to reuse the KV cache on the next turn. */
    onToken?: (token: Token) => void,
    /** Each generated token's logprob entry as it is sampled (before its text), when the sampling asks for logprobs. */
    onLogprob?: (entry: TokenLogprob) => void,
    /** Ends the generation at the next token (stopReason "abort"). */
    signal?: AbortSignal
};

export type GenerationRequest = {
    /** The tokens the answer follows (the whole prompt, BOS included): the decoder's context for the first token. */
    promptTokens: readonly Token[],
    sampling: SamplingOptions,
    /** Tokens the sequence can hold: the generation ends ("contextFull") before it overflows. */
    contextSize: number
};

/**
 * One request's generation, whatever drives it: every rule that looks at a generated token lives here
 * once — end of generation, stop strings held back across tokens, a grammar that is complete, abort,
 * --max-tokens, a full context —, with the text decoder, the penalties' window, logprobs and the
 * timings. Drivers (direct/directTokenLoop.ts for one sequence, batch/batchScheduler.ts for many)
 * only decide what to decode when, and hand each sampled token to `accept`.
 */
export class GenerationState {
    /** The tokens generated so far (EOS excluded): the penalties' window reads its tail. */
    readonly generated: Token[] = [];
    private text = "";
    private readonly decoder: TokenTextDecoder;
    private readonly stopFilter: StopTextFilter;
    private readonly logprobs: TokenLogprob[] | undefined;
    private readonly submittedAt = performance.now();
    private startedAt = this.submittedAt;
    private firstTokenAt: number | undefined;

    private constructor(
        private readonly model: LlamaModel,
        private readonly request: GenerationRequest,
        private readonly callbacks: GenerationCallbacks,
        private readonly grammar: GrammarRun | undefined
    ) {
        this.decoder = new TokenTextDecoder((tokens, special, last) => model.detokenize(tokens, special, last), request.promptTokens);
        this.stopFilter = new StopTextFilter(request.sampling.stop);
        this.logprobs = request.sampling.logprobs == null ? undefined : [];
    }

    /** Parses the request's grammar, if any (once per text and engine), and gives it a fresh state. */
    static async open(model: LlamaModel, request: GenerationRequest, callbacks: GenerationCallbacks = {}): Promise<GenerationState> {
        const spec = request.sampling.grammar;
        const grammar = spec == null ? undefined : await openGrammarRun(model, spec);
        return new GenerationState(model, request, callbacks, grammar);
    }

    /** `open` without waiting, for a request without a grammar (a scheduler queues it in the caller's tick). */
    static withoutGrammar(model: LlamaModel, request: GenerationRequest, callbacks: GenerationCallbacks = {}): GenerationState {
        return new GenerationState(model, request, callbacks, undefined);
    }

    get sampling(): SamplingOptions {
        return this.request.sampling;
    }

    get promptTokens(): readonly Token[] {
        return this.request.promptTokens;
    }

    /** The sampler's settings in the library's shape, its penalties reading this request's tokens. */
    samplerSettings(): {settings: LibrarySamplerSettings, penalized: boolean} {
        return librarySamplerSettings(this.request.sampling, this.generated, this.grammar?.state);
    }

    /** The driver must read the model's distribution at each sampled place (generation/tokenLogprobs.ts). */
    get wantsDistribution(): boolean {
        return this.logprobs != null;
    }

    get aborted(): boolean {
        return this.callbacks.signal?.aborted === true;
    }

    /** Nothing to generate: aborted before it began, or --max-tokens 0. */
    get endsBeforeStart(): StopReason | undefined {
        if (this.aborted) return "abort";
        if (this.request.sampling.maxTokens <= 0) return "maxTokens";
        return undefined;
    }

    /** The driver starts evaluating the prompt now (a scheduler's request waited in its queue until then). */
    markStarted() {
        this.startedAt = performance.now();
    }

    get queuedMs(): number {
        return this.startedAt - this.submittedAt;
    }

    /**
     * A sampled token. Returns why the generation ends here, or undefined: the token is then decoded
     * next. `positionsUsed` is what the sequence holds before this token; `distribution` the model's
     * probabilities at this place when `wantsDistribution` ([token, p, …] by falling p).
     */
    accept(token: Token, positionsUsed: number, distribution?: readonly number[]): StopReason | undefined {
        this.firstTokenAt ??= performance.now();
        if (this.model.isEogToken(token)) return "eos";
        if (this.logprobs != null && distribution != null) {
            // The token before this one (the prompt's last at first): a "▁word" keeps its space after it.
            const previous = this.generated.at(-1) ?? this.request.promptTokens.at(-1);
            const entry = logprobAt(this.model, distribution, token, this.request.sampling.logprobs ?? 0, previous);
            this.logprobs.push(entry);
            this.callbacks.onLogprob?.(entry);
        }
        this.generated.push(token);
        this.callbacks.onToken?.(token);
        const {text, stopped} = this.stopFilter.push(this.decoder.push(token));
        this.emit(text);
        if (stopped) return "stop";
        // A complete JSON object can take nothing more: end now rather than decode once more for EOS.
        if (endsNow(this.grammar)) return "eos";
        if (this.aborted) return "abort";
        if (this.generated.length >= this.request.sampling.maxTokens) return "maxTokens";
        if (positionsUsed + 1 >= this.request.contextSize) return "contextFull";
        return undefined;
    }

    /** Ends the generation: the text held back (an unfinished character, a possible stop string) and the result. */
    finish(stopReason: StopReason): GenerationResult {
        // Aborted before the answer came out (during the prompt): say so rather than "maxTokens".
        if (stopReason === "maxTokens" && this.aborted && this.generated.length < this.request.sampling.maxTokens) stopReason = "abort";
        if (stopReason !== "stop") {
            const tail = this.stopFilter.push(this.decoder.flush());
            this.emit(tail.text);
            if (tail.stopped) stopReason = "stop";
            else this.emit(this.stopFilter.flush());
        }
        const finished = performance.now();
        const firstTokenAt = this.firstTokenAt ?? finished;
        const generateMs = this.firstTokenAt == null ? 0 : finished - this.firstTokenAt;
        // The first token comes out of the prompt's evaluation; the rest are one decode step each.
        const decodeSteps = Math.max(0, this.generated.length - 1);
        return {
            text: this.text,
            stopReason,
            tokens: {prompt: this.request.promptTokens.length, generated: this.generated.length},
            ...completeness(this.grammar, stopReason),
            timings: {
                promptMs: firstTokenAt - this.startedAt,
                firstTokenMs: firstTokenAt - this.submittedAt,
                generateMs,
                generatedTokensPerSecond: generateMs > 0 ? decodeSteps / (generateMs / 1000) : 0
            },
            ...(this.logprobs == null ? {} : {logprobs: this.logprobs}),
            ...(stopReason === "stop" && this.stopFilter.matched != null ? {stopSequence: this.stopFilter.matched} : {})
        };
    }

    private emit(chunk: string) {
        if (chunk.length === 0) return;
        this.text += chunk;
        this.callbacks.onText?.(chunk);
    }
}
