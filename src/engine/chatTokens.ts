import {SpecialToken, SpecialTokensText, type LlamaText, type Token, type Tokenizer} from "node-llama-cpp";
import {appendAll} from "./appendAll.js";
import {literalOfMarker, renderMarkerPattern} from "./chatTemplate.js";

/**
 * Tokenizes rendered chat text as LlamaText.tokenize does, except that each answer placeholder
 * becomes the tokens of that answer (`answers[index]`, by message index), and each escaped
 * private-use character the user typed becomes itself again. The result for an earlier
 * turn is then an exact prefix of the next turn's, so the KV cache is reused token for token.
 */
export function tokenizeChatText(text: LlamaText, tokenizer: Tokenizer, answers: ReadonlyMap<number, readonly Token[]>): Token[] {
    const tokens: Token[] = [];
    let pendingText = "";
    const hasContent = () => tokens.length > 0 || pendingText.length > 0;
    const flushText = () => {
        // As LlamaText.tokenize does: plain text never gets SentencePiece's added leading space.
        if (pendingText.length > 0) appendAll(tokens, tokenizer(pendingText, false, "trimLeadingSpace"));
        pendingText = "";
    };
    for (const value of text.values) {
        if (value instanceof SpecialToken) {
            flushText();
            appendAll(tokens, value.tokenize(tokenizer));
        } else if (value instanceof SpecialTokensText) {
            const trim = hasContent();
            flushText();
            appendAll(tokens, value.tokenize(tokenizer, trim));
        } else {
            let last = 0;
            for (const match of value.matchAll(renderMarkerPattern)) {
                pendingText += value.slice(last, match.index);
                last = match.index + match[0].length;
                // A private-use character the user typed: text like any other.
                const literal = literalOfMarker(match[1] ?? "");
                if (literal != null) {
                    pendingText += literal;
                    continue;
                }
                flushText();
                const answer = answers.get(Number(match[1]));
                if (answer == null) throw new Error(`No tokens for the answer at message ${match[1]}.`);
                appendAll(tokens, answer);
            }
            pendingText += value.slice(last);
        }
    }
    flushText();
    return tokens;
}
