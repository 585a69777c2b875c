import os from "node:os";
import path from "node:path";
import {describe, expect, test} from "vitest";
import {MultilineInput} from "../../src/cli/chat/multilineInput.js";
import {parseSlashCommand} from "../../src/cli/chat/slashCommands.js";

describe("a pasted block", () => {
    test('drops its """ lines, as typed ones are', () => {
        const input = new MultilineInput();
        for (const line of ['"""', "def f():", "    return 1", '"""']) input.hold(line);
        expect(input.push("")).toBe("def f():\n    return 1");
    });

    test('pasted text around a block keeps its lines, without the """ lines', () => {
        const input = new MultilineInput();
        for (const line of ["Explain this:", '"""', "x = 1 \\", '"""']) input.hold(line);
        expect(input.push("")).toBe("Explain this:\nx = 1 \\");
    });

    test('a pasted """ that opens a block waits for the closing one typed after it', () => {
        const input = new MultilineInput();
        for (const line of ['"""', "first"]) input.hold(line);
        expect(input.push("second")).toBeUndefined();
        expect(input.push('"""')).toBe("first\nsecond");
    });

    test("a pasted line ending in a backslash continues, as a typed one does", () => {
        const input = new MultilineInput();
        for (const line of ["one \\", "two"]) input.hold(line);
        expect(input.push("")).toBe("one \ntwo");
    });
});

describe("/save and /load file names", () => {
    const home = os.homedir();
    test("~ means the home folder", () => {
        expect(parseSlashCommand("/save ~/x.json")).toEqual({name: "save", file: path.join(home, "x.json")});
        expect(parseSlashCommand("/load ~")).toEqual({name: "load", file: home});
    });

    test("a quoted path may hold spaces, and loses its quotes", () => {
        expect(parseSlashCommand('/save "my talks/x.json"')).toEqual({name: "save", file: "my talks/x.json"});
        expect(parseSlashCommand("/load '~/my talk.json'")).toEqual({name: "load", file: path.join(home, "my talk.json")});
    });

    test("~user and a ~ inside a name are left alone", () => {
        expect(parseSlashCommand("/save ~other/x.json")).toEqual({name: "save", file: "~other/x.json"});
        expect(parseSlashCommand("/save a~b.json")).toEqual({name: "save", file: "a~b.json"});
    });
});
