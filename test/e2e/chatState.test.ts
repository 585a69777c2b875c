import {mkdtemp, readFile, rm, stat, writeFile} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {runInPty, type PtyRun} from "./helpers/pty.js";
import {runCli, tinyModel} from "./helpers/runCli.js";

// /save keeps the KV state beside the JSON; /load and --resume in a NEW process continue from it
// without evaluating the conversation again, and answer exactly as an uninterrupted session does.
let dir: string;
beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "mixtral-chat-state-"));
});
afterAll(async () => {
    await rm(dir, {recursive: true, force: true});
});

const prompt = "\n> ";
const sampling = ["--temperature", "0", "--max-tokens", "8"];
const env = {XDG_CONFIG_HOME: undefined as string | undefined, MIXTRAL_THREADS: "1"};
const messages = ["Hello there", "Tell me more", "And then?"];

type TurnJson = {content: string, tokens: {prompt: number, generated: number, context: number}};

function startChat(extra: string[] = []): PtyRun {
    return runInPty(["chat", "-m", tinyModel(), ...sampling, "--no-history", ...extra], {env: {...env, XDG_CONFIG_HOME: dir}});
}

async function turn(chat: PtyRun, message: string): Promise<string> {
    chat.write(message + "\r");
    await chat.expect(message + "\n");
    const shown = await chat.expect(prompt);
    return shown.slice(0, -prompt.length).trim();
}

/** Piped chat, one JSON object a turn. */
async function pipedTurns(lines: string[], extra: string[] = []) {
    const result = await runCli(["chat", "-m", tinyModel(), ...sampling, "--lines", "--json", ...extra], {input: lines.join("\n") + "\n", env});
    expect(result.code, result.stderr).toBe(0);
    return {turns: result.stdout.trim().split("\n").map((line) => JSON.parse(line) as TurnJson), stderr: result.stderr};
}

/** Two exchanges in a terminal, then /save: the conversation JSON and its KV state. */
async function saveTwoExchanges(file: string) {
    const chat = startChat();
    await chat.expect(prompt.trimStart());
    const answers = [await turn(chat, messages[0] ?? ""), await turn(chat, messages[1] ?? "")];
    const saved = await turn(chat, `/save ${file}`);
    chat.write("/exit\r");
    expect(await chat.exit()).toBe(0);
    return {answers, saved};
}

describe("chat KV state across processes", () => {
    let file: string;
    let uninterrupted: TurnJson[];
    beforeAll(async () => {
        file = path.join(dir, "talk.json");
        const [{saved}, reference] = await Promise.all([saveTwoExchanges(file), pipedTurns(messages)]);
        expect(saved).toMatch(/saved 4 messages to .*talk\.json and their KV state \(\d+ tokens, .+\) to .*talk\.kvstate/);
        uninterrupted = reference.turns;
        expect(uninterrupted).toHaveLength(3);
    }, 120_000);

    test("/save records the model file, the context settings and the tokens beside the state file", async () => {
        const saved = JSON.parse(await readFile(file, "utf8")) as {messages: unknown[], kvState: Record<string, any>};
        expect(saved.messages).toHaveLength(4);
        const model = await stat(tinyModel());
        expect(saved.kvState).toMatchObject({
            file: "talk.kvstate",
            model: {path: tinyModel(), bytes: model.size},
            context: {size: 512, typeK: "f16", typeV: "f16", flashAttention: "auto"},
            windowStart: 0
        });
        // The sequence holds both exchanges, up to the last answer's final token.
        expect(saved.kvState.tokens.length).toBeGreaterThan(uninterrupted[1]!.tokens.context - 3);
        expect((await stat(path.join(dir, "talk.kvstate"))).size).toBeGreaterThan(0);
    });

    test("--resume continues with the uninterrupted session's next answer, evaluating only the new message", async () => {
        const {turns, stderr} = await pipedTurns([messages[2] ?? ""], ["--resume", file]);
        expect(stderr).toMatch(/loaded 4 messages from .*talk\.json with their KV state: \d+ tokens restored, none evaluated again/);
        expect(turns[0]!.content).toBe(uninterrupted[2]!.content);
        // Exactly the tokens the uninterrupted session evaluated for its third turn: the conversation was not evaluated again.
        expect(turns[0]!.tokens.prompt).toBe(uninterrupted[2]!.tokens.prompt);
        expect(turns[0]!.tokens.context).toBe(uninterrupted[2]!.tokens.context);
    });

    test("/load in a new process restores the state, and /stats counts only the new message as evaluated", async () => {
        const chat = startChat();
        await chat.expect(prompt.trimStart());
        expect(await turn(chat, `/load ${file}`)).toMatch(/with their KV state: \d+ tokens restored, none evaluated again/);
        expect(await turn(chat, messages[2] ?? "")).toBe(uninterrupted[2]!.content.trim());
        expect(await turn(chat, "/stats")).toContain(`(${uninterrupted[2]!.tokens.prompt} prompt tokens evaluated)`);
        chat.write("/exit\r");
        expect(await chat.exit()).toBe(0);
    });

    test("another context size loads the conversation as text and says why; the next turn evaluates all of it", async () => {
        const {turns, stderr} = await pipedTurns([messages[2] ?? ""], ["--resume", file, "--context-size", "384"]);
        expect(stderr).toMatch(/loaded 4 messages .*; the KV state was saved with a 512-token context \(now 384\), so they are evaluated with the next message/);
        // The whole conversation so far is evaluated again: more than the two saved exchanges hold.
        expect(turns[0]!.tokens.prompt).toBeGreaterThan(uninterrupted[1]!.tokens.context);
    });

    test("a state file that does not hold the conversation's tokens is not used", async () => {
        const tampered = path.join(dir, "tampered.json");
        const saved = JSON.parse(await readFile(file, "utf8")) as {messages: {content: string}[], kvState: {file: string}};
        saved.messages[0]!.content = "Something else entirely";
        saved.kvState.file = "talk.kvstate";
        await writeFile(tampered, JSON.stringify(saved));
        const {stderr} = await pipedTurns([messages[2] ?? ""], ["--resume", tampered]);
        expect(stderr).toContain("the KV state does not match the conversation's tokens, so they are evaluated with the next message");
    });

    test("after /undo, /save keeps only the conversation's part of the cache, and --resume still restores it", async () => {
        const undone = path.join(dir, "undone.json");
        const chat = startChat();
        await chat.expect(prompt.trimStart());
        await turn(chat, messages[0] ?? "");
        await turn(chat, messages[1] ?? "");
        await turn(chat, "/undo");
        expect(await turn(chat, `/save ${undone}`)).toMatch(/saved 2 messages .* and their KV state/);
        chat.write("/exit\r");
        expect(await chat.exit()).toBe(0);
        const {turns, stderr} = await pipedTurns([messages[1] ?? ""], ["--resume", undone]);
        expect(stderr).toContain("with their KV state");
        expect(turns[0]!.content).toBe(uninterrupted[1]!.content);
        // Only the new message (the saved cache even holds the first answer's end, which the
        // uninterrupted session still had to evaluate with its second message).
        expect(turns[0]!.tokens.prompt).toBeGreaterThan(0);
        expect(turns[0]!.tokens.prompt).toBeLessThanOrEqual(uninterrupted[1]!.tokens.prompt);
    });

    test("a conversation saved without a state (older files) still loads", async () => {
        const plain = path.join(dir, "plain.json");
        await writeFile(plain, JSON.stringify({system: null, messages: [{role: "user", content: "Hi"}, {role: "assistant", content: "Hello"}]}));
        const {turns, stderr} = await pipedTurns(["Go on"], ["--resume", plain]);
        expect(stderr).toContain("no KV state was saved with them");
        expect(turns).toHaveLength(1);
    });
});
