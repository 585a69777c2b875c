import {appendAll} from "./appendAll.js";
import type {Token} from "node-llama-cpp";

// A UTF-8 character is at most 4 bytes, so at most 4 byte-fallback tokens are held back.
const maxHeldTokens = 4;

type Detokenize = (tokens: readonly Token[], specialTokens?: boolean, lastTokens?: readonly Token[]) => string;

/**
 * Turns generated tokens into text, one token at a time, without ever showing half a character:
 * a byte-fallback token that starts a multi-byte UTF-8 character decodes to U+FFFD until the
 * tokens carrying its other bytes arrive, so those are held back and decoded together.
 */
export class TokenTextDecoder {
    private readonly pending: Token[] = [];
    private readonly recent: Token[];

    /**
     * `precedingTokens` (the prompt) are the context of the first tokens: a SentencePiece "▁word"
     * then keeps its leading space, as llama.cpp prints it, instead of being taken for the text's start.
     */
    constructor(private readonly detokenize: Detokenize, precedingTokens: readonly Token[] = []) {
        this.recent = precedingTokens.slice(-maxHeldTokens);
    }

    /** The text this token completes ("" while a character is still incomplete). */
    push(token: Token): string {
        this.pending.push(token);
        const text = this.detokenize(this.pending, false, this.recent);
        if (text.endsWith("\uFFFD") && this.pending.length < maxHeldTokens) return "";
        return this.release(text);
    }

    /** Whatever is still held when generation ends (an incomplete character stays U+FFFD). */
    flush(): string {
        if (this.pending.length === 0) return "";
        return this.release(this.detokenize(this.pending, false, this.recent));
    }

    private release(text: string): string {
        // The last few tokens let the detokenizer decide leading-space handling like llama.cpp does.
        appendAll(this.recent, this.pending);
        this.recent.splice(0, Math.max(0, this.recent.length - maxHeldTokens));
        this.pending.length = 0;
        return text;
    }
}
