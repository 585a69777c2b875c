import type {LlamaContextSequence, LlamaModel, Token} from "node-llama-cpp";

/**
 * Tokenizes a raw prompt as llama.cpp's own tools do: the BOS token when the file asks for it,
 * then the text with special-token parsing on.
 */
export function tokenizePrompt(sequence: LlamaContextSequence, prompt: string): Token[] {
    return withBos(sequence.model, sequence.model.tokenize(prompt, true));
}

/** The BOS token in front of a raw prompt's tokens when the file asks for it. */
export function withBos(model: LlamaModel, tokens: readonly Token[]): Token[] {
    if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) return [model.tokens.bos, ...tokens];
    return [...tokens];
}
