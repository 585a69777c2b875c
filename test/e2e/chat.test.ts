import {describe, expect, test} from "vitest";
import {runCli, tinyModel} from "./helpers/runCli.js";

// Piped chat: stdin is the user's side, stdout carries only answers.
const greedy = ["--temperature", "0", "--max-tokens", "8"];
// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[/;

type TurnJson = {
    role: string, content: string, stopReason: string,
    tokens: {prompt: number, generated: number, context: number, contextSize: number},
    timings: {promptMs: number, firstTokenMs: number, generateMs: number, generatedTokensPerSecond: number}
};

describe("mixtral chat with piped stdin", () => {
    test("answers all of stdin as one message and prints only the answer, one line", async () => {
        const result = await runCli(["chat", "-m", tinyModel(), ...greedy], {input: "Why is the sky blue?\nAnswer briefly.\n"});
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/^[^\n]+\n$/s);
        expect(result.stdout).not.toMatch(ansi);
        expect(result.stdout).not.toMatch(/^> /);
        expect(result.stderr).toBe("");
    });

    test("--json prints one object for the turn with role, content, tokens and timings", async () => {
        const plain = await runCli(["chat", "-m", tinyModel(), ...greedy], {input: "hello world"});
        const result = await runCli(["chat", "-m", tinyModel(), ...greedy, "--json"], {input: "hello world"});
        expect(result.code, result.stderr).toBe(0);
        const lines = result.stdout.trimEnd().split("\n");
        expect(lines).toHaveLength(1);
        const turn = JSON.parse(lines[0]!) as TurnJson;
        expect(turn.role).toBe("assistant");
        expect(turn.content).toBe(plain.stdout.trimEnd());
        expect(turn.tokens.generated).toBe(8);
        expect(turn.stopReason).toBe("maxTokens");
        expect(turn.timings.firstTokenMs).toBeGreaterThan(0);
    });

    test("--lines makes each line the next turn of one conversation, reusing what the context holds", async () => {
        const result = await runCli(["chat", "-m", tinyModel(), ...greedy, "--lines", "--json"], {input: "hello world\n\nwhy is the sky blue\nthank you\n"});
        expect(result.code, result.stderr).toBe(0);
        const turns = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as TurnJson);
        // The blank line is not a turn.
        expect(turns).toHaveLength(3);
        const [first, second, third] = turns as [TurnJson, TurnJson, TurnJson];
        expect(second.tokens.context).toBeGreaterThan(first.tokens.context);
        expect(third.tokens.context).toBeGreaterThan(second.tokens.context);
        // Only the new turn is evaluated: far fewer tokens than the whole conversation.
        expect(third.tokens.prompt).toBeLessThan(third.tokens.context - first.tokens.context);
    });

    test("--lines prints one answer a line", async () => {
        const result = await runCli(["chat", "-m", tinyModel(), ...greedy, "--lines"], {input: "hello\nwhy\n"});
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout.split("\n")).toHaveLength(3);
        expect(result.stdout.endsWith("\n")).toBe(true);
    });

    test("--system changes the answer, as it opens the first message", async () => {
        const plain = await runCli(["chat", "-m", tinyModel(), ...greedy], {input: "hello"});
        const withSystem = await runCli(["chat", "-m", tinyModel(), ...greedy, "--system", "Answer like a pirate."], {input: "hello"});
        expect(withSystem.code, withSystem.stderr).toBe(0);
        expect(withSystem.stdout).not.toBe(plain.stdout);
    });

    test("empty stdin is a usage error before the model loads", async () => {
        const result = await runCli(["chat", "-m", tinyModel()], {input: "  \n"});
        expect(result.code).toBe(2);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(/^error: Nothing to answer: stdin was empty\.\nhint: /);
    });

    test("a file without a chat template still chats, in Mistral's format", async () => {
        const result = await runCli(["chat", "-m", tinyModel("tiny-q8_0-notemplate.gguf"), ...greedy, "--verbose"], {input: "hello"});
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toContain("Mistral Instruct format (the file has no chat template)");
        const withTemplate = await runCli(["chat", "-m", tinyModel(), ...greedy, "--verbose"], {input: "hello"});
        expect(withTemplate.stderr).toContain("the model file's chat template");
    });
});
