import type {Llama, LlamaGrammar} from "node-llama-cpp";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {loadLlama} from "../../src/engine/native/loadLlama.js";
import {jsonSchemaGrammar} from "../../src/grammar/jsonSchemaToGbnf.js";
import {GbnfMatcher} from "../../src/grammar/matchGbnf.js";
import {caseName, cases, refused, stringsFor} from "../unit/jsonSchemaCases.js";

// llama.cpp's own grammar engine, through node-llama-cpp's binding, on llama.cpp's converter test cases:
// for the grammar llama.cpp's converter writes and for ours, the engine accepts exactly the strings
// src/grammar/matchGbnf.ts accepts. So the unit test's comparison (test/unit/jsonSchemaLlamaCpp.test.ts),
// made with the matcher, holds for the engine that samples.

/** LlamaGrammar's text check (llama_grammar_accept over the text's code points): internal in node-llama-cpp. */
const nativeAccepts = (grammar: LlamaGrammar, text: string) => (grammar as unknown as {_testText(text: string): boolean})._testText(text);

let llama: Llama;
beforeAll(async () => {
    llama = await loadLlama({gpu: "cpu", threads: 1});
});
afterAll(async () => {
    await llama?.dispose();
});

describe("llama.cpp's grammar engine reads the grammars as the matcher does", () => {
    const withReference = cases.filter((c) => c.status === "success" && !(c.name in refused) && (c.expectedGrammar ?? c.pythonGrammar) != null);
    test("on every case, for llama.cpp's grammar and ours", async () => {
        let checked = 0;
        for (const c of withReference) {
            const grammars = [(c.expectedGrammar ?? c.pythonGrammar)!, jsonSchemaGrammar(c.schema).gbnf];
            const matchers = grammars.map((gbnf) => new GbnfMatcher(gbnf));
            const natives = await Promise.all(grammars.map((grammar) => llama.createGrammar({grammar})));
            const strings = stringsFor(c, matchers, 8);
            for (const text of c.passing ?? []) expect(nativeAccepts(natives[0]!, text), `${caseName(c)}: ${text}`).toBe(true);
            for (const text of c.failing ?? []) expect(nativeAccepts(natives[0]!, text), `${caseName(c)}: ${text}`).toBe(false);
            for (const text of strings) {
                for (const [index, native] of natives.entries())
                    expect(nativeAccepts(native, text), `${caseName(c)} (${index === 0 ? "llama.cpp's" : "ours"}): ${JSON.stringify(text)}`).toBe(matchers[index]!.accepts(text));
                checked++;
            }
        }
        expect(checked).toBeGreaterThan(2000);
    }, 120_000);
});
