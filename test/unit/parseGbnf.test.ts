import {readdirSync, readFileSync} from "node:fs";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import type {Llama} from "node-llama-cpp";
import {loadLlama} from "../../src/engine/native/loadLlama.js";
import {checkGbnf} from "../../src/grammar/parseGbnf.js";
import {repoRoot} from "../e2e/helpers/runCli.js";

// llama.cpp's own example grammars, as node-llama-cpp ships them.
const grammarsDir = path.join(repoRoot, "node_modules", "node-llama-cpp", "llama", "grammars");
const shipped = readdirSync(grammarsDir).filter((file) => file.endsWith(".gbnf"));

const broken: [string, string, {line: number, column: number, message: RegExp}][] = [
    ["an undefined rule", "root ::= \"yes\" | no\n", {line: 1, column: 18, message: /undefined rule 'no'/}],
    ["no root rule", "answer ::= \"yes\"\n", {line: 2, column: 1, message: /no 'root' rule/}],
    ["a missing ::=", "root ::= a\na = \"x\"\n", {line: 2, column: 3, message: /expecting ::=/}],
    ["an unterminated string", "root ::= \"yes\n", {line: 1, column: 10, message: /unterminated string/}],
    ["an unclosed group", "root ::= (\"a\" | \"b\"\n", {line: 2, column: 1, message: /expecting '\)'/}],
    ["a dangling repetition", "root ::= * \"a\"\n", {line: 1, column: 10, message: /expecting an item before/}],
    ["an unknown escape", "root ::= \"\\q\"\n", {line: 1, column: 11, message: /unknown escape/}],
    ["a bad repetition count", "root ::= \"a\"{x}\n", {line: 1, column: 14, message: /expecting a number/}],
    ["left recursion", "root ::= root \"a\" | \"b\"\n", {line: 1, column: 1, message: /left-recursive/}],
    ["a stray character", "root ::= \"a\" )\n", {line: 1, column: 14, message: /unexpected '\)'/}],
    ["an empty grammar", "# nothing\n", {line: 1, column: 1, message: /no rules/}],
    ["a token by text", "root ::= <hello>\n", {line: 1, column: 10, message: /by id/}]
];

describe("the GBNF check", () => {
    test.each(shipped)("accepts llama.cpp's %s", (file) => {
        expect(checkGbnf(readFileSync(path.join(grammarsDir, file), "utf8"))).toBeUndefined();
    });

    test.each(broken)("rejects %s with its line and column", (_name, grammar, expected) => {
        const error = checkGbnf(grammar);
        expect(error).toBeDefined();
        expect(error!.message).toMatch(expected.message);
        expect({line: error!.line, column: error!.column}).toEqual({line: expected.line, column: expected.column});
    });

    test("accepts repetitions, classes, escapes, comments and token ids", () => {
        expect(checkGbnf("root ::= [a-z]{2,5} \"\\x41\\u00e9\" ([^\\n] | \"\\\\\")* # comment\nws ::= [ \\t]+ <[2]> !<[3]>\nxs ::= [ \\t]+\n")).toBeUndefined();
    });
});

// The verdicts must be llama.cpp's: what passes here must parse natively, what fails must fail there.
describe("the GBNF check agrees with llama.cpp's parser", () => {
    let llama: Llama;
    beforeAll(async () => {
        llama = await loadLlama({gpu: "cpu", threads: 1});
    });
    afterAll(async () => {
        await llama?.dispose();
    });

    const nativeParses = async (grammar: string) => llama.createGrammar({grammar}).then(() => true, () => false);

    test("on llama.cpp's grammars and on the broken ones", async () => {
        for (const file of shipped)
            expect(await nativeParses(readFileSync(path.join(grammarsDir, file), "utf8")), file).toBe(true);
        for (const [name, grammar] of broken) expect(await nativeParses(grammar), name).toBe(false);
    });
});
