import type {LlamaModel, Token} from "node-llama-cpp";
import {UsageError} from "../../errors.js";
import {appendAll} from "./appendAll.js";

/**
 * What the vocabulary says about how many tokens a text needs, read once per model, so that a
 * server can refuse a prompt that cannot fit before tokenizing it (a 4 MB prompt takes seconds to
 * tokenize, and the tokenizer holds the event loop, so every other stream stalls meanwhile), and
 * tokenize the rest in slices between which other work runs.
 */
export type Vocabulary = {
    /**
     * The most bytes of text one token stands for: a prompt of `b` bytes has at least
     * `b / maxTokenBytes` tokens. (Tokens that swallow whitespace beside them, llama.cpp's lstrip and
     * rstrip attributes, are not counted: Mixtral's vocabulary has none.)
     */
    maxTokenBytes: number,
    /**
     * Where a SentencePiece text may be cut and its halves tokenized alone with the same tokens:
     * between two characters no token of the vocabulary holds side by side (llama.cpp's
     * SentencePiece merges only neighbours whose joined text is a token, so nothing merges across
     * such a cut). Undefined for other tokenizers (BPE's pre-tokenizer looks across the cut).
     */
    cuts?: {neighbours: ReadonlySet<string>, specialTexts: readonly string[]}
};

const byteToken = /^<0x[0-9A-Fa-f]{2}>$/;
// llama.cpp's token types: 3 control (<s>, [INST]), 4 user-defined: matched in text with special parsing on.
const specialTypes = new Set([3, 4]);

export function readVocabulary(model: LlamaModel): Vocabulary {
    const tokenizer = model.fileInfo.metadata.tokenizer?.ggml;
    const pieces = tokenizer?.tokens ?? [];
    const sentencePiece = tokenizer?.model === "llama";
    let maxTokenBytes = 1;
    const neighbours = new Set<string>();
    const specialTexts: string[] = [];
    pieces.forEach((piece, index) => {
        // A byte token stands for one byte; SentencePiece's "▁" for one space. Other tokenizers' pieces
        // (BPE's byte encoding: "Ġ" for a space) have at least as many bytes as the text they stand for.
        const text = sentencePiece ? (byteToken.test(piece) ? "\u0000" : piece.replace(/\u2581/g, " ")) : piece;
        maxTokenBytes = Math.max(maxTokenBytes, Buffer.byteLength(text));
        if (!sentencePiece || byteToken.test(piece)) return;
        for (let at = 1; at < text.length; at++) neighbours.add(text.slice(at - 1, at + 1));
        if (specialTypes.has(Number(tokenizer?.token_type?.[index])) && text !== "") specialTexts.push(text);
    });
    return {maxTokenBytes, cuts: sentencePiece && pieces.length > 0 ? {neighbours, specialTexts} : undefined};
}

/** The one refusal of a prompt that cannot fit a sequence; `tokens` is its count, or "more than N". */
export function promptTooLongError(tokens: number | string, contextSize: number): UsageError {
    return new UsageError(
        `The prompt is ${tokens} tokens, but only ${contextSize - 2} fit in the ${contextSize}-token context of a sequence.`,
        {hint: "Shorten the prompt, or start with a larger --context-size (the tokens each of the --parallel sequences holds; fewer --parallel leave memory for more)."}
    );
}

/** Refuses, without tokenizing, text of more bytes than `contextSize` tokens can stand for. */
export function checkTextFits(bytes: number, vocabulary: Vocabulary, contextSize: number): void {
    if (bytes > (contextSize - 2) * vocabulary.maxTokenBytes)
        throw promptTooLongError(`at least ${Math.floor(bytes / vocabulary.maxTokenBytes)}`, contextSize);
}

/** Characters tokenized between two turns of the event loop: a few milliseconds of work on a slow core. */
const sliceChars = 4096;

/**
 * Tokenizes a raw prompt (special tokens parsed, no BOS) as `model.tokenize(text, true)` does, in
 * slices cut where nothing merges across (see `Vocabulary.cuts`), letting the event loop run between
 * them; stops early with promptTooLongError once more than `contextSize - 2` tokens are read.
 */
export async function tokenizeInSlices(model: LlamaModel, vocabulary: Vocabulary, text: string, contextSize: number): Promise<Token[]> {
    const tokens: Token[] = [];
    let start = 0;
    while (start < text.length) {
        const end = vocabulary.cuts == null ? text.length : nextCut(text, start + sliceChars, vocabulary.cuts);
        appendAll(tokens, tokenizeSlice(model, text, start, end));
        start = end;
        if (tokens.length > contextSize - 2) throw promptTooLongError(`more than ${tokens.length}`, contextSize);
        if (start < text.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return tokens;
}

/**
 * The slice's tokens as they are within the whole text: a slice after the first is tokenized behind
 * the character before it (an anchor, so that it is not taken as the start of a text, which gets a
 * SentencePiece space), and the anchor's own tokens are dropped.
 */
function tokenizeSlice(model: LlamaModel, text: string, start: number, end: number): Token[] {
    if (start === 0) return [...model.tokenize(text.slice(0, end), true)];
    const anchor = text[start - 1]!;
    const anchorTokens = model.tokenize(anchor, true).length;
    return [...model.tokenize(anchor + text.slice(start, end), true)].slice(anchorTokens);
}

/** The first index at or after `from` where the text may be cut, or its end. */
export function nextCut(text: string, from: number, cuts: NonNullable<Vocabulary["cuts"]>): number {
    for (let at = from; at < text.length; at++) {
        if (isSurrogate(text.charCodeAt(at - 1)) || isSurrogate(text.charCodeAt(at))) continue;
        if (cuts.neighbours.has(text.slice(at - 1, at + 1))) continue;
        // After a special token llama.cpp starts a new piece of text (with its own leading space): not a cut.
        if (cuts.specialTexts.some((special) => text.startsWith(special, at - special.length))) continue;
        return at;
    }
    return text.length;
}

function isSurrogate(code: number): boolean {
    return code >= 0xd800 && code <= 0xdfff;
}
