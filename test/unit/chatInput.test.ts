import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {loadConversation, parseConversation, saveConversation} from "../../src/cli/chat/conversationFile.js";
import {chatHistoryPath, readHistory, writeHistory} from "../../src/cli/chat/historyFile.js";
import {MultilineInput} from "../../src/cli/chat/multilineInput.js";
import {parseSlashCommand, slashHelp, unescapeMessage} from "../../src/cli/chat/slashCommands.js";
import {applySetting, formatSettings} from "../../src/cli/chat/replSettings.js";
import {formatStats, formatTimings} from "../../src/cli/chat/turnReport.js";
import {loadChat} from "../../src/cli/chat/chatStateFile.js";
import type {ChatConversation, ChatTurn} from "../../src/generator/textGenerator.js";
import {samplingDefaults, type SamplingOptions} from "../../src/generator/sampling.js";

let folder: string;
beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), "mixtral-chat-"));
});
afterAll(async () => {
    await rm(folder, {recursive: true, force: true});
});

describe("typing a message", () => {
    test("a plain line is a message at once", () => {
        expect(new MultilineInput().push("hello")).toBe("hello");
    });

    test("a trailing backslash continues the message on the next line", () => {
        const input = new MultilineInput();
        expect(input.push("first \\")).toBeUndefined();
        expect(input.pending).toBe(true);
        expect(input.push("second")).toBe("first \nsecond");
        expect(input.pending).toBe(false);
    });

    test('""" lines wrap a block that keeps backslashes and blank lines', () => {
        const input = new MultilineInput();
        expect(input.push('"""')).toBeUndefined();
        expect(input.push("a\\")).toBeUndefined();
        expect(input.push("")).toBeUndefined();
        expect(input.push("b")).toBeUndefined();
        expect(input.push('"""')).toBe("a\\\n\nb");
    });

    test('"""one line""" is a whole block', () => {
        expect(new MultilineInput().push('"""just this"""')).toBe("just this");
    });

    test("pasted lines wait for Enter, and Enter on an empty line sends them without a blank line", () => {
        const input = new MultilineInput();
        input.hold("one");
        input.hold("two");
        expect(input.pending).toBe(true);
        expect(input.push("")).toBe("one\ntwo");
    });

    test('a message typed over several lines is one history entry, sent again as the same message', () => {
        const typed = (lines: string[], hold = 0) => {
            const input = new MultilineInput();
            lines.slice(0, hold).forEach((line) => input.hold(line));
            let message: string | undefined;
            for (const line of lines.slice(hold)) message = input.push(line);
            return {message, entry: input.historyEntry};
        };
        const cases = [typed(['"""', "a\\", "", "b", '"""']), typed(["first \\", "second"]), typed(["one", "two", ""], 2)];
        expect(cases.map(({entry}) => entry)).toEqual(['"""\na\\\n\nb\n"""', "first \\\nsecond", "one\ntwo"]);
        for (const {message, entry} of cases) {
            // The up arrow brings the entry back as one line with newlines; Enter sends it.
            const again = new MultilineInput();
            expect(again.push(entry!)).toBe(message);
            expect(again.historyEntry).toBe(entry);
        }
        // A message of one line is readline's own entry.
        expect(typed(["hello"]).entry).toBeUndefined();
    });

    test("Ctrl+C drops a half-typed message", () => {
        const input = new MultilineInput();
        input.push('"""');
        input.push("draft");
        input.cancel();
        expect(input.pending).toBe(false);
        expect(input.push("fresh")).toBe("fresh");
    });
});

describe("/set and /show", () => {
    const settings = (stop: string[] = []) => ({sampling: {...samplingDefaults, maxTokens: 64, stop} as SamplingOptions, setSystem: () => {}});

    test("/set takes the sampling flags chat takes, --stop included: each adds one, alone it clears them", () => {
        const flags = ["Stop:"];
        const target = settings(flags);
        expect(applySetting(target, "repeat_penalty", "1.1")).toBe("(repeat-penalty set to 1.1)");
        expect(applySetting(target, "stop", "User:")).toBe('(stop strings: "Stop:", "User:")');
        // The list the flags gave is not changed under them.
        expect(flags).toEqual(["Stop:"]);
        expect(formatSettings(target.sampling, undefined)).toMatch(/^stop {12}"Stop:", "User:"$/m);
        expect(applySetting(target, "stop", "")).toBe("(stop strings cleared)");
        expect(formatSettings(target.sampling, undefined)).toMatch(/^stop {12}\(none\)$/m);
    });

    test("/help and /set's usage name every setting", () => {
        const usage = parseSlashCommand("/set");
        expect(usage).toEqual({name: "usage", usage: "/set <temperature|top-k|top-p|min-p|repeat-penalty|max-tokens|seed|stop|system|experts> <value>"});
        expect(slashHelp).toMatch(/repeat-penalty, max-tokens, seed, stop, system or experts/);
    });

    test("/stats and --verbose count one of a kind in the singular", () => {
        const turn = {content: "Hi", stopReason: "maxTokens", tokens: {prompt: 1, generated: 1}, context: {used: 2, size: 512}, droppedExchanges: 0,
            timings: {promptMs: 1, firstTokenMs: 1, generateMs: 10, generatedTokensPerSecond: 100}} as unknown as ChatTurn;
        const stats = formatStats({messages: 2, contextUsed: 2, contextSize: 512, format: "f", last: turn, totals: {turns: 1, promptTokens: 1, generatedTokens: 1, generateMs: 10}});
        expect(stats).toMatch(/last answer +1 token at 100\.0 tok\/s, first token after 1 ms \(1 prompt token evaluated\)/);
        expect(stats).toMatch(/session +1 answer, 1 token generated \(100\.0 tok\/s\), 1 prompt token evaluated/);
        expect(formatTimings(turn)).toMatch(/^1 new prompt token, /);
    });

    test("/load counts one message in the singular", async () => {
        const file = path.join(folder, "one.json");
        await saveConversation(file, undefined, [{role: "user", content: "hi"}]);
        const session = {kvState: undefined, replace: () => {}} as unknown as ChatConversation;
        expect(await loadChat(file, session)).toBe(`loaded 1 message from ${file}`);
    });
});

describe("slash commands", () => {
    test("are recognised with their argument", () => {
        expect(parseSlashCommand("/save  chat.json ")).toEqual({name: "save", file: "chat.json"});
        expect(parseSlashCommand("/system Be brief. Very.")).toEqual({name: "system", text: "Be brief. Very."});
        expect(parseSlashCommand("/EXIT")).toEqual({name: "exit"});
        expect(parseSlashCommand("/quit")).toEqual({name: "exit"});
    });

    test("a file command without a file shows its usage", () => {
        expect(parseSlashCommand("/load")).toEqual({name: "usage", usage: "/load <file>"});
    });

    test("an unknown command is reported, and // sends a message that starts with a slash", () => {
        expect(parseSlashCommand("/frobnicate now")).toEqual({name: "unknown", text: "/frobnicate now"});
        expect(parseSlashCommand("//etc/hosts is a file")).toBeUndefined();
        expect(unescapeMessage("//etc/hosts is a file")).toBe("/etc/hosts is a file");
        expect(parseSlashCommand("what is 1/2?")).toBeUndefined();
    });
});

describe("saved conversations", () => {
    test("round-trip through a file", async () => {
        const file = path.join(folder, "conversation.json");
        const messages = [{role: "user", content: "hi\nthere"}, {role: "assistant", content: "hello \"you\""}] as const;
        await saveConversation(file, "Be brief.", messages);
        expect(await loadConversation(file)).toEqual({system: "Be brief.", messages});
        expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({format: "mixtral-chat", version: 1});
    });

    test("a file that is not a conversation is refused with one sentence", async () => {
        const file = path.join(folder, "bad.json");
        await writeFile(file, "[1, 2]");
        await expect(loadConversation(file)).rejects.toThrow(/bad\.json is not a saved conversation/);
        await expect(loadConversation(path.join(folder, "missing.json"))).rejects.toThrow(/Could not read/);
        expect(() => parseConversation({messages: [{role: "assistant", content: "x"}]}, "f.json"))
            .toThrow(/message 1 must be \{"role": "user"/);
    });
});

describe("prompt history", () => {
    test("lives in $XDG_CONFIG_HOME/mixtral, else ~/.config/mixtral", () => {
        expect(chatHistoryPath({XDG_CONFIG_HOME: "/x"})).toBe(path.join("/x", "mixtral", "chat_history"));
        expect(chatHistoryPath({})).toBe(path.join(os.homedir(), ".config", "mixtral", "chat_history"));
    });

    test("is saved newest first and read back the same, skipping damaged lines", async () => {
        const file = path.join(folder, "nested", "chat_history");
        expect(writeHistory(file, ["newest \\", "older"])).toBe(true);
        expect(await readHistory(file)).toEqual(["newest \\", "older"]);
        await writeFile(file, "\"old\"\n{broken\n\"new\"\n");
        expect(await readHistory(file)).toEqual(["new", "old"]);
        expect(await readHistory(path.join(folder, "none"))).toEqual([]);
    });
});
