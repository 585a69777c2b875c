import {mulberry32} from "../../src/bench/mulberry32.js";

/**
 * A deterministic English-like text for the perplexity fixtures and the benchmark: sentences of
 * common words (most of them whole tokens of the test models' vocabulary, some spelled in bytes),
 * in paragraphs under a Wikitext-style heading, so the same seed always gives the same file.
 */
const words = (
    "the of and to a in is you that it he was for on are as with his they I at be this have from or one had by " +
    "word but not what all were we when your can said there use an each which she do how their if will up other " +
    "about out many then them these so some her would make like him into time has look two more write go see " +
    "number no way could people my than first water been call who its now find long down day did get come made " +
    "may part model text answer question light night story name small large test token expert mixture local " +
    "machine run fast slow river mountain quantized perplexity measure"
).split(" ");

export function sampleText(wordCount: number, seed = 2024): string {
    const random = mulberry32(seed);
    const pick = () => words[Math.floor(random() * words.length)]!;
    const paragraphs: string[] = [];
    let sentences: string[] = [];
    let written = 0;
    while (written < wordCount) {
        const length = 6 + Math.floor(random() * 9);
        const sentence = Array.from({length}, pick);
        sentence[0] = sentence[0]!.charAt(0).toUpperCase() + sentence[0]!.slice(1);
        sentences.push(`${sentence.join(" ")}.`);
        written += length;
        if (sentences.length === 5) {
            paragraphs.push(` ${sentences.join(" ")} `);
            sentences = [];
        }
    }
    if (sentences.length > 0) paragraphs.push(` ${sentences.join(" ")} `);
    return ` = A Test Article = \n\n${paragraphs.join("\n")}\n`;
}

/** A small task file in llama.cpp's hellaswag format (6 lines a task: context, right ending's index, 4 endings). */
export function sampleHellaswag(taskCount: number, seed = 7): string {
    const random = mulberry32(seed);
    const phrase = (length: number) => Array.from({length}, () => words[Math.floor(random() * words.length)]!).join(" ");
    const lines: string[] = [];
    for (let task = 0; task < taskCount; task++) {
        lines.push(`Story: ${phrase(8 + Math.floor(random() * 8))}`, String(Math.floor(random() * 4)));
        for (let ending = 0; ending < 4; ending++) lines.push(`${phrase(3 + Math.floor(random() * 6))}.`);
    }
    return lines.join("\n") + "\n";
}
