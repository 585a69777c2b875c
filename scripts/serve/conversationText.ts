/** Deterministic filler words (~3 tokens each on the test vocabulary): `words` of them. */
export function conversationText(seed: number, words: number): string {
    const syllables = ["ka", "lo", "mi", "ren", "tas", "vo", "zu", "pel", "dor", "shi", "an", "et"];
    let state = seed * 7919 + 17;
    const out: string[] = [];
    for (let index = 0; index < words; index++) {
        let word = "";
        for (let part = 0; part < 2; part++) {
            state = (state * 1103515245 + 12345) % 2 ** 31;
            word += syllables[state % syllables.length];
        }
        out.push(word);
    }
    return out.join(" ");
}
