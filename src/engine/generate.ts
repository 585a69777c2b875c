import type {LlamaContextSequence, Token} from "node-llama-cpp";
import {UsageError} from "../errors.js";
import {completeness, endsNow, openGrammarRun} from "./grammarRun.js";
import {openDirectTokenLoop, type DirectTokenLoop, type SamplerSettings} from "./directTokenLoop.js";
import {StopTextFilter} from "./stopText.js";
import {TokenTextDecoder} from "./tokenTextDecoder.js";
import type {GenerationResult, SamplingOptions, StopReason} from "./types.js";

export type GenerateCallbacks = {
    /** Text as it is generated, whole characters only. */
    onText?: (text: string) => void,
    /** Ctrl+C: ends generation and returns what was generated with stopReason "abort". */
    signal?: AbortSignal,
    /** Each generated token (EOS excluded): chat keeps them to reuse the KV cache on the next turn. */
    onToken?: (token: Token) => void
};

// llama.cpp's default repeat_last_n.
const repeatLastN = 64;

/**
 * Tokenizes a raw prompt as llama.cpp's own tools do: the BOS token when the file asks for it,
 * then the text with special-token parsing on.
 */
export function tokenizePrompt(sequence: LlamaContextSequence, prompt: string): Token[] {
    const model = sequence.model;
    const tokens = model.tokenize(prompt, true);
    if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) return [model.tokens.bos, ...tokens];
    return tokens;
}

/**
 * Evaluates the prompt tokens after what the sequence already holds and generates a continuation.
 * The sequence's history is kept (chat appends turns); call `sequence.clearHistory()` for a fresh one.
 */
export async function generate(
    sequence: LlamaContextSequence,
    promptTokens: Token[],
    sampling: SamplingOptions,
    {onText, signal, onToken}: GenerateCallbacks = {}
): Promise<GenerationResult> {
    const model = sequence.model;
    const contextSize = sequence.contextSize;
    const startIndex = sequence.nextTokenIndex;
    if (startIndex + promptTokens.length >= contextSize)
        throw new UsageError(
            `The prompt is ${promptTokens.length} tokens, but only ${contextSize - startIndex - 1} fit in the ${contextSize}-token context.`,
            {hint: "Shorten the prompt or raise --context-size."}
        );

    const generated: Token[] = [];
    const decoder = new TokenTextDecoder((tokens, special, last) => model.detokenize(tokens, special, last), promptTokens);
    const stopFilter = new StopTextFilter(sampling.stop);
    let text = "";
    let stopReason: StopReason = "maxTokens";
    const emit = (chunk: string) => {
        if (chunk.length === 0) return;
        text += chunk;
        onText?.(chunk);
    };

    const started = performance.now();
    let firstTokenAt: number | undefined;
    const grammar = sampling.grammar == null ? undefined : await openGrammarRun(model, sampling.grammar);
    if (signal?.aborted) stopReason = "abort";
    else if (sampling.maxTokens > 0) {
        const settings: SamplerSettings = {
            grammarEvaluationState: grammar?.state,
            temperature: sampling.temperature,
            topK: sampling.topK,
            topP: sampling.topP,
            minP: sampling.minP,
            seed: sampling.seed,
            repeatPenalty: sampling.repeatPenalty === 1 ? undefined : {
                penalty: sampling.repeatPenalty,
                maxPunishTokens: repeatLastN,
                punishTokens: () => generated.slice(-repeatLastN)
            }
        };
        // The direct loop saves ~0.5 ms a token (see directTokenLoop.ts); the library's generator
        // remains for what the direct loop does not handle.
        const direct = openDirectTokenLoop(sequence, settings);
        // yieldEogToken: we want to see EOS to report why generation ended.
        const iterator = direct != null ? directTokens(direct, promptTokens, signal) : sequence.evaluate(promptTokens, {...settings, yieldEogToken: true});
        for await (const token of iterator) {
            firstTokenAt ??= performance.now();
            if (model.isEogToken(token)) {
                stopReason = "eos";
                break;
            }
            generated.push(token);
            onToken?.(token);
            const {text: safe, stopped} = stopFilter.push(decoder.push(token));
            emit(safe);
            if (stopped) {
                stopReason = "stop";
                break;
            }
            // A complete JSON object can take nothing more: end now rather than decode once more for EOS.
            if (endsNow(grammar)) {
                stopReason = "eos";
                break;
            }
            if (signal?.aborted) {
                stopReason = "abort";
                break;
            }
            if (generated.length >= sampling.maxTokens) break;
            if (sequence.nextTokenIndex + 1 >= contextSize) {
                stopReason = "contextFull";
                break;
            }
        }
    }
    // Aborted before any token came out (during the prompt): say so rather than "maxTokens".
    if (stopReason === "maxTokens" && signal?.aborted === true && generated.length < sampling.maxTokens) stopReason = "abort";
    if (stopReason !== "stop") {
        const tail = stopFilter.push(decoder.flush());
        emit(tail.text);
        if (tail.stopped) stopReason = "stop";
        else emit(stopFilter.flush());
    }

    const finished = performance.now();
    const firstTokenMs = (firstTokenAt ?? finished) - started;
    const generateMs = firstTokenAt == null ? 0 : finished - firstTokenAt;
    // The first token comes out of the prompt's evaluation; the rest are one decode step each.
    const decodeSteps = Math.max(0, generated.length - 1);
    return {
        text,
        stopReason,
        tokens: {prompt: promptTokens.length, generated: generated.length},
        ...completeness(grammar, stopReason),
        timings: {
            promptMs: firstTokenMs,
            firstTokenMs,
            generateMs,
            generatedTokensPerSecond: generateMs > 0 ? decodeSteps / (generateMs / 1000) : 0
        }
    };
}

/** The direct loop as the generator `sequence.evaluate` would be: the last token yielded is not decoded. */
async function* directTokens(loop: DirectTokenLoop, promptTokens: Token[], signal: AbortSignal | undefined): AsyncGenerator<Token> {
    try {
        let input: readonly Token[] = promptTokens;
        while (true) {
            const token = await loop.step(input, signal);
            if (token == null) return;
            yield token;
            input = [token];
        }
    } finally {
        loop.dispose();
    }
}
