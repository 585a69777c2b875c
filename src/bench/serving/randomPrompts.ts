import {mulberry32} from "../mulberry32.js";

/**
 * Prompts for the serving benchmark, like vLLM's "random" dataset: made-up text of about
 * `words` tokens, different from its first word on (so a server's prompt cache cannot skip the
 * work), and the same for the same seed (so runs compare). Common English words are one token
 * each in Mixtral's vocabulary; the server's usage counts give the real lengths.
 */
const vocabulary = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an they " +
    "you were her she there been one all we their has would when if so no what up out them about into than more " +
    "time some could only other new then also its after first two may these any over such our like well most just " +
    "made through where much before good very back people years way long day little own same work great state world " +
    "still old while place life right both high last house water small light city night point hand part line name music"
).split(" ");

export function randomPrompts(count: number, words: number, seed = 0): string[] {
    const random = mulberry32(seed);
    return Array.from({length: count}, () => {
        const picked: string[] = [];
        for (let index = 0; index < Math.max(1, words); index++)
            picked.push(vocabulary[Math.floor(random() * vocabulary.length)] ?? "the");
        return picked.join(" ");
    });
}
