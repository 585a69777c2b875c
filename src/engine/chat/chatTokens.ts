import {SpecialToken, SpecialTokensText, type LlamaText, type Token, type Tokenizer} from "node-llama-cpp";
import {appendAll} from "../generation/appendAll.js";
import {literalOfMarker, renderMarkerPattern} from "./answerMarkers.js";

/**
 * Tokenizes rendered chat text as llama.cpp tokenizes a whole rendered prompt (llama-server, and
 * Hugging Face's tokenizer likewise), except that each answer placeholder becomes the tokens of that
 * answer (`answers[index]`, by message index) and each escaped private-use character the user typed
 * becomes itself again. The result for an earlier turn is then an exact prefix of the next turn's,
 * so the KV cache is reused token for token.
 *
 * Runs of text between special tokens and answers are tokenized in one piece, template text and
 * message text together, without parsing special tokens (so a user who types `</s>` gets text):
 * tokenizing them piece by piece, as node-llama-cpp's LlamaText does, split " Why" into "▁" + "Why"
 * and left a lone "▁" at the end of the prompt. Template text that does hold control tokens (ChatML's
 * `<|im_start|>`, say) is still tokenized on its own with them parsed. The space a template puts
 * before an answer (Mistral's `[/INST] {answer}`) belongs to the answer's first token ("▁Because"),
 * so it is left out of the prompt, as llama-server and `apply_chat_template` leave it out.
 * test/fixtures/llama-server/chatPromptTokens.json holds llama-server's tokens for the test model.
 */
export function tokenizeChatText(text: LlamaText, tokenizer: Tokenizer, answers: ReadonlyMap<number, readonly Token[]>): Token[] {
    const tokens: Token[] = [];
    let pendingText = "";
    // Text right after an answer or after template text tokenized on its own continues it: no
    // SentencePiece space in front. After a special token or at the start llama.cpp adds one.
    let continues = false;
    const flushText = (answerFollows: boolean) => {
        if (answerFollows && pendingText.endsWith(" ")) pendingText = pendingText.slice(0, -1);
        if (pendingText.length > 0) appendAll(tokens, tokenizer(pendingText, false, continues ? "trimLeadingSpace" : undefined));
        pendingText = "";
    };
    for (const value of text.values) {
        if (value instanceof SpecialToken) {
            flushText(false);
            appendAll(tokens, value.tokenize(tokenizer));
            continues = false;
        } else if (value instanceof SpecialTokensText) {
            if (!holdsControlTokens(value.value, tokenizer)) {
                pendingText += value.value;
                continue;
            }
            const trim = tokens.length > 0 || pendingText.length > 0;
            flushText(false);
            appendAll(tokens, value.tokenize(tokenizer, trim));
            continues = true;
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
                flushText(true);
                const answer = answers.get(Number(match[1]));
                if (answer == null) throw new Error(`No tokens for the answer at message ${match[1]}.`);
                appendAll(tokens, answer);
                continues = true;
            }
            pendingText += value.slice(last);
        }
    }
    // The next answer starts here: its leading space is its own.
    flushText(true);
    return tokens;
}

/**
 * The tokens of an answer known only as text (a loaded conversation, an API client's history, an
 * answer cut at a stop string): with the leading SentencePiece space when the template puts a space
 * before answers (the model generates "▁Because" after "[/INST]"), without it otherwise.
 */
export function tokenizeAnswerText(tokenizer: Tokenizer, content: string, answersFollowSpace: boolean): Token[] {
    return tokenizer(content, false, answersFollowSpace ? undefined : "trimLeadingSpace");
}

/** Whether template text holds tokens that only special-token parsing finds; memoized per tokenizer. */
const controlTokenTexts = new WeakMap<Tokenizer, Map<string, boolean>>();
function holdsControlTokens(text: string, tokenizer: Tokenizer): boolean {
    let known = controlTokenTexts.get(tokenizer);
    if (known == null) controlTokenTexts.set(tokenizer, known = new Map());
    let holds = known.get(text);
    if (holds == null) {
        const parsed = tokenizer(text, true);
        const plain = tokenizer(text, false);
        holds = parsed.length !== plain.length || parsed.some((token, index) => token !== plain[index]);
        known.set(text, holds);
    }
    return holds;
}
