import type {LlamaContextSequence, Token} from "node-llama-cpp";

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
