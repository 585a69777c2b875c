/**
 * A small SentencePiece ("llama") vocabulary laid out like Mistral's: <unk>, <s>, </s>, the 256
 * byte-fallback tokens, then word pieces. "▁" (U+2581) stands for a space, as in SentencePiece.
 *
 * llama.cpp's SPM tokenizer starts from single characters and repeatedly merges the adjacent pair with
 * the highest score whose concatenation is a vocabulary entry; a character with no entry falls back to
 * its UTF-8 bytes as <0xXX> tokens. A word piece is therefore only reachable if the intermediate pieces
 * exist too, so every word comes with its prefix closure ("▁t", "▁th", "▁the").
 */

/** `enum llama_token_type` (llama.h), stored in tokenizer.ggml.token_type */
export const tokenTypes = {
    normal: 1,
    unknown: 2,
    control: 3,
    userDefined: 4,
    unused: 5,
    byte: 6
} as const;

export const unknownTokenId = 0;
export const bosTokenId = 1;
export const eosTokenId = 2;
export const firstByteTokenId = 3;
/** ids below this are special or byte tokens; generation should never pick them greedily */
export const firstWordPieceId = firstByteTokenId + 256;

export type Vocabulary = {
    tokens: string[],
    scores: number[],
    types: number[]
};

const space = "\u2581";

/** Every single character a prompt commonly uses, plus a few multi-byte ones with their own token. */
const singleCharacters = [
    space,
    ..."abcdefghijklmnopqrstuvwxyz",
    ..."ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    ..."0123456789",
    ...".,!?;:'\"-()[]{}/\\&%$#@*+=_<>~`^|",
    "é", "è", "à", "ü", "ö", "ç", "日", "本"
];

/** How Mistral's own tokenizer splits "[INST]" and "[/INST]": "▁[" "INST" "]" and "▁[" "/" "INST" "]". */
const instructionPieces = [space + "[", "IN", "INS", "INST"];

/** Suffixes that combine with words ("▁work" + "ing"); each is added with its prefixes. */
const subwords = ["ing", "ed", "er", "es", "ly", "tion", "ment", "ness", "able", "est"];

/** Common words, most frequent first, so a small vocabulary keeps the most useful ones. */
const words = (
    "the of and to a in is you that it he was for on are as with his they I at be this have from or " +
    "one had by word but not what all were we when your can said there use an each which she do how " +
    "their if will up other about out many then them these so some her would make like him into time " +
    "has look two more write go see number no way could people my than first water been call who its " +
    "now find long down day did get come made may part hello world Hello The It This What How You We " +
    "model text answer question please thank thanks yes good new sun sky blue light night story name " +
    "small large test token expert mixture local machine run fast slow chat help here where why because " +
    "just know think very well also back after work year years over only little great old right tell " +
    "place still own say same give under last never before while might must home big high such follow " +
    "act change went air off play spell away animal house point page letter mother answer found study " +
    "learn should America world high every near add food between below country plant school father keep " +
    "tree start city earth eye life open seem together next white children begin got walk example ease " +
    "paper group always music those both mark often until mile river car feet care second book carry"
).split(" ");

export function buildVocabulary(vocabSize: number): Vocabulary {
    const pieces: string[] = [];
    const known = new Set<string>();
    const budget = vocabSize - firstWordPieceId;
    const addGroup = (group: readonly string[]): boolean => {
        const fresh = [...new Set(group)].filter((piece) => !known.has(piece));
        if (pieces.length + fresh.length > budget)
            return false;
        for (const piece of fresh) {
            known.add(piece);
            pieces.push(piece);
        }
        return true;
    };

    if (!addGroup(singleCharacters) || !addGroup(instructionPieces))
        throw new RangeError(
            `vocabSize ${vocabSize} is too small: the special, byte, single-character and [INST] tokens ` +
            `alone take ${firstWordPieceId + singleCharacters.length + instructionPieces.length}`
        );
    for (const word of words)
        addGroup(prefixClosure(space + word));
    for (const subword of subwords)
        addGroup(prefixClosure(subword));
    for (const filler of fillerPieces()) {
        if (pieces.length >= budget)
            break;
        addGroup([filler]);
    }

    const tokens = ["<unk>", "<s>", "</s>"];
    const types: number[] = [tokenTypes.unknown, tokenTypes.control, tokenTypes.control];
    for (let byte = 0; byte < 256; byte++) {
        tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
        types.push(tokenTypes.byte);
    }
    const scores = tokens.map(() => 0);
    for (const [index, piece] of pieces.entries()) {
        tokens.push(piece);
        types.push(tokenTypes.normal);
        // earlier pieces merge first, like the log-probability scores of a trained SentencePiece model
        scores.push(-index);
    }
    return {tokens, scores, types};
}

/** "▁the" -> ["▁t", "▁th", "▁the"]; "ing" -> ["in", "ing"] (single characters are already there). */
function prefixClosure(piece: string): string[] {
    const characters = Array.from(piece);
    const prefixes: string[] = [];
    for (let length = 2; length <= characters.length; length++)
        prefixes.push(characters.slice(0, length).join(""));
    return prefixes;
}

/** Endless distinct lowercase pieces ("▁aa", "aa", "▁ab", ...) to fill a large vocabulary. */
function* fillerPieces(): Generator<string> {
    const letters = "abcdefghijklmnopqrstuvwxyz";
    for (let length = 2; ; length++) {
        const indices = new Array<number>(length).fill(0);
        for (;;) {
            const text = indices.map((i) => letters[i]).join("");
            yield space + text;
            yield text;
            let position = length - 1;
            while (position >= 0 && indices[position] === letters.length - 1)
                indices[position--] = 0;
            if (position < 0)
                break;
            indices[position]!++;
        }
    }
}
