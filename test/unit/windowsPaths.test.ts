import {describe, expect, test} from "vitest";
import {saveChat} from "../../src/cli/chat/chatStateFile.js";
import {pathValueOn, schemaArgument} from "../../src/cli/flags/parseOptions.js";
import {loraContextOption} from "../../src/engine/load/loraAdapters.js";
import type {ChatConversation} from "../../src/generator/textGenerator.js";
import {nativeFilePath, windowsPathProblem} from "../../src/windowsPaths.js";

// Windows, asked from Linux: paths past MAX_PATH (259 characters) that llama.cpp opens itself, and
// file names NTFS misreads.

const deep = "C:\\Users\\ada\\Documents\\" + "models-from-a-long-project-name\\".repeat(8) + "mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf";

describe("a path llama.cpp opens (model, LoRA, KV state)", () => {
    test("past 259 characters on Windows it gets the \\\\?\\ prefix that lifts MAX_PATH, normalized", () => {
        expect(deep.length).toBeGreaterThan(259);
        expect(nativeFilePath(deep, "win32")).toBe(`\\\\?\\${deep}`);
        expect(nativeFilePath(deep.replace(/\\/g, "/"), "win32")).toBe(`\\\\?\\${deep}`);
        expect(nativeFilePath(`\\\\nas\\share\\${"d".repeat(260)}.gguf`, "win32")).toBe(`\\\\?\\UNC\\nas\\share\\${"d".repeat(260)}.gguf`);
    });

    test("shorter paths, and every path elsewhere, are passed as given", () => {
        expect(nativeFilePath("C:\\models\\x.gguf", "win32")).toBe("C:\\models\\x.gguf");
        expect(nativeFilePath("models/x.gguf", "win32")).toBe("models/x.gguf");
        const longPosix = "/home/ada/" + "d/".repeat(200) + "x.gguf";
        expect(nativeFilePath(longPosix, "linux")).toBe(longPosix);
        expect(nativeFilePath(longPosix, "darwin")).toBe(longPosix);
    });

    test("LoRA adapters reach node-llama-cpp with the prefix", () => {
        expect(loraContextOption([{path: deep, scale: 0.5}], "win32")).toEqual({adapters: [{filePath: `\\\\?\\${deep}`, scale: 0.5}]});
        expect(loraContextOption([{path: deep, scale: 1}], "linux")).toEqual({adapters: [{filePath: deep, scale: 1}]});
    });
});

describe("file names NTFS misreads", () => {
    const windows = {platform: "win32" as const, env: {USERPROFILE: "C:\\Users\\ada"}};

    test("a path flag refuses one on Windows, with the reason", () => {
        expect(() => pathValueOn("talk:2.json", windows)).toThrow(/cannot hold < > : " \| \? \*\.$/);
        expect(() => pathValueOn("C:\\out\\chart?.svg", windows)).toThrow(/cannot hold/);
        expect(() => pathValueOn("~\\nul.json", windows)).toThrow(/NUL is a device name on Windows\.$/);
        expect(() => pathValueOn("notes.", windows)).toThrow(/trailing dot or space/);
    });

    test("a drive letter, \\\\?\\ paths, folders and . and .. pass; so does everything off Windows", () => {
        for (const value of ["C:\\models\\x.json", "a:b.json", "\\\\?\\C:\\x\\y.json", "D:\\out\\", "..", "~\\talk.json"])
            expect(windowsPathProblem(value, "win32"), value).toBeUndefined();
        expect(pathValueOn("talk:2.json", {platform: "linux", env: {HOME: "/home/ada"}})).toBe("talk:2.json");
    });

    test("--json-schema checks a file name, never inline JSON (its quotes and colons are no file name)", () => {
        expect(schemaArgument('{"type": "object"}', windows)).toBe('{"type": "object"}');
        expect(schemaArgument("true", windows)).toBe("true");
        expect(schemaArgument("~\\pet.json", windows)).toBe("C:\\Users\\ada\\pet.json");
        expect(() => schemaArgument("pet:v2.json", windows)).toThrow(/cannot hold/);
    });

    test("chat's /save refuses one before writing anything", async () => {
        const session = {history: [], kvState: undefined} as unknown as ChatConversation;
        await expect(saveChat("talk:2.json", session, "win32")).rejects.toMatchObject({message: expect.stringMatching(/^Cannot save to talk:2\.json: Windows file names cannot hold/)});
    });
});
