import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {loadConversation, parseConversation, saveConversation} from "../../src/cli/chat/conversationFile.js";
import {chatHistoryPath, readHistory, writeHistory} from "../../src/cli/chat/historyFile.js";
import {MultilineInput} from "../../src/cli/chat/multilineInput.js";
import {parseSlashCommand, unescapeMessage} from "../../src/cli/chat/slashCommands.js";

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

    test("Ctrl+C drops a half-typed message", () => {
        const input = new MultilineInput();
        input.push('"""');
        input.push("draft");
        input.cancel();
        expect(input.pending).toBe(false);
        expect(input.push("fresh")).toBe("fresh");
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
