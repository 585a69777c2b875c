import type {GenerationResult} from "./result.js";

/**
 * The order-keeping window behind every `completeEach`: `run` starts a prompt, up to `ahead` run at
 * once, and results come out in the prompts' order. Prompts are read only as room frees up, so a
 * pipe that is still being written is answered line by line.
 */
export async function* completeInOrder(
    prompts: AsyncIterable<string>, ahead: number, run: (prompt: string) => Promise<GenerationResult>
): AsyncGenerator<GenerationResult> {
    const window: Promise<GenerationResult>[] = [];
    try {
        for await (const prompt of prompts) {
            const result = run(prompt);
            // Awaited in order below; a failure of a later one must not go unhandled meanwhile.
            result.catch(() => {});
            window.push(result);
            while (window.length >= ahead) yield await window.shift()!;
        }
        while (window.length > 0) yield await window.shift()!;
    } finally {
        // Stopped early (Ctrl+C, a failure, the consumer left): what still runs ends before we return.
        await Promise.allSettled(window);
    }
}
