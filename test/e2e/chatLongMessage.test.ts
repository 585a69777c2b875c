import {describe, expect, test} from "vitest";
import {runCli, tinyModel} from "./helpers/runCli.js";

/** Text of well over 125k tokens in the tiny model's vocabulary (CJK characters fall back to bytes). */
function hugeMessage(): string {
    const words = ["alpha", "beta", "gamma", "delta", "sky", "blue", "why", "the", "of", "and"];
    const parts: string[] = [];
    for (let i = 0; parts.length < 50_000; i++) parts.push(words[i % words.length]! + String.fromCharCode(0x4e00 + (i * 7) % 2000));
    return parts.join(" ");
}

describe("a chat message of over 125k tokens", () => {
    test("is refused with one sentence and the conversation goes on", async () => {
        const input = `Hello there\n${hugeMessage()}\nAnd now?\n`;
        const result = await runCli(["chat", "--lines", "--json", "--no-history", "-m", tinyModel(), "--context-size", "256", "--max-tokens", "4", "--temperature", "0"], {input, timeoutMs: 120_000});
        expect(result.stderr).not.toMatch(/Maximum call stack|unexpected failure|\n\s+at /);
        expect(result.stderr).toMatch(/error: This message needs \d{6,} tokens, more than the 256-token context holds\./);
        const turns = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as {tokens: {prompt: number, context: number}});
        // The first and the last message are answered; the last one still sees the first exchange.
        expect(turns).toHaveLength(2);
        expect(turns[1]!.tokens.context).toBeGreaterThan(turns[0]!.tokens.context);
        expect(result.code).toBe(2);
    }, 180_000);
});
