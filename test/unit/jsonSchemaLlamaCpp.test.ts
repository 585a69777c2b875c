import {Ajv2020} from "ajv/dist/2020.js";
import {describe, expect, test} from "vitest";
import {jsonSchemaGrammar} from "../../src/grammar/jsonSchemaToGbnf.js";
import {GbnfMatcher} from "../../src/grammar/matchGbnf.js";
import {asLlamaCppWrites, caseName, cases, grammarDiffers, isJson, onlyLlamaCppAccepts, refused, stringsFor} from "./jsonSchemaCases.js";

// llama.cpp's own test cases for its JSON-schema-to-grammar converter (test/unit/jsonSchemaCases.ts): each
// case's schema, the grammar llama.cpp's converter writes for it, and, for the integration cases, the
// strings llama.cpp's grammar engine must accept and reject. Ours must write the same grammar or, where it
// deliberately differs (listed there, each with its reason), accept and reject the same strings but for
// that difference. src/grammar/matchGbnf.ts reads the grammars as llama.cpp's engine does (checked against
// the native engine in test/e2e/jsonSchemaNativeGrammar.test.ts).

describe("llama.cpp's converter test cases: the same grammar", () => {
    const converted = cases.filter((c) => c.expectedGrammar !== undefined && !(c.name in refused));
    test.each(converted.map((c) => [caseName(c), c] as const))("%s", (_name, c) => {
        if (c.status === "failure") {
            expect(() => jsonSchemaGrammar(c.schema)).toThrow(expect.objectContaining({exitCode: 2}));
            return;
        }
        const ours = asLlamaCppWrites(jsonSchemaGrammar(c.schema).gbnf);
        if (c.name in grammarDiffers) expect(ours).not.toBe(c.expectedGrammar);
        else expect(ours).toBe(c.expectedGrammar);
    });

    test("the Python converter recorded the same grammars as the C++ test expects", () => {
        for (const c of cases.filter((c) => c.expectedGrammar != null && c.pythonGrammar != null && !c.cppOnly))
            expect(c.pythonGrammar, caseName(c)).toBe(c.expectedGrammar);
    });
});

describe("llama.cpp's schemas we refuse instead of half-honouring", () => {
    test.each(Object.entries(refused))("%s", (name, message) => {
        const c = cases.find((c) => c.name === name)!;
        expect(c, name).toBeDefined();
        expect(() => jsonSchemaGrammar(c.schema)).toThrow(message);
    });
});

describe("llama.cpp's converter test cases: the same strings accepted and rejected", () => {
    const withReference = cases.filter((c) => c.status === "success" && !(c.name in refused) && (c.expectedGrammar ?? c.pythonGrammar) != null);
    test.each(withReference.map((c) => [caseName(c), c] as const))("%s", (_name, c) => {
        const reference = new GbnfMatcher((c.expectedGrammar ?? c.pythonGrammar)!);
        const ours = new GbnfMatcher(jsonSchemaGrammar(c.schema).gbnf);
        // The strings llama.cpp's own integration test asserts: the matcher reads them as llama.cpp's engine does.
        for (const text of c.passing ?? []) expect(reference.accepts(text), `reference accepts ${JSON.stringify(text)}`).toBe(true);
        for (const text of c.failing ?? []) expect(reference.accepts(text), `reference rejects ${JSON.stringify(text)}`).toBe(false);

        const strings = stringsFor(c, [reference, ours], 12);
        const disagreements: string[] = [];
        for (const text of strings) {
            const [theirs, mine] = [reference.accepts(text), ours.accepts(text)];
            if (theirs === mine) continue;
            // Ours only ever narrows llama.cpp's language, and only as listed.
            const allowed = (theirs && !mine && (onlyLlamaCppAccepts.test(text) || !isJson(text) || c.narrower === true)) || c.name in grammarDiffers;
            if (!allowed) disagreements.push(`${JSON.stringify(text)}: llama.cpp ${theirs ? "accepts" : "rejects"}, ours ${mine ? "accepts" : "rejects"}`);
        }
        expect(disagreements).toEqual([]);
        expect(strings.size).toBeGreaterThan(20);
        // Whatever ours accepts is one JSON value (llama.cpp's "regexp quote" grammar is not), and for the
        // extra cases (real schemas) one that validates.
        const validate = c.source === "extra" ? new Ajv2020({strict: false, validateFormats: false}).compile(c.schema as object) : undefined;
        for (const text of [...strings].filter((text) => ours.accepts(text))) {
            expect(isJson(text), text).toBe(true);
            if (validate != null) expect(validate(JSON.parse(text)), `${text} ${JSON.stringify(validate.errors)}`).toBe(true);
        }
    });
});

describe("where ours differs from llama.cpp's grammar, on purpose", () => {
    const accepts = (schema: unknown, text: string) => new GbnfMatcher(jsonSchemaGrammar(schema).gbnf).accepts(text);
    test("a quote in a pattern is written as JSON escapes it", () => {
        expect(accepts({type: "string", pattern: "^\"$"}, "\"\\\"\"")).toBe(true);
        expect(accepts({type: "string", pattern: "^\"$"}, "\"\"\"")).toBe(false);
        expect(accepts({type: "string", pattern: "^a\\\\b$"}, JSON.stringify("a\\b"))).toBe(true);
    });
    test("`.` and [^…] stay inside the string", () => {
        for (const pattern of ["^a.c$", "^a[^x]c$"]) {
            expect(accepts({type: "string", pattern}, "\"abc\"")).toBe(true);
            expect(accepts({type: "string", pattern}, "\"a\"c\""), pattern).toBe(false);
            expect(accepts({type: "string", pattern}, "\"a\\c\""), pattern).toBe(false);
            expect(accepts({type: "string", pattern}, "\"a\nc\""), pattern).toBe(false);
        }
    });
    test("\\d, \\w and identity escapes convert", () => {
        expect(accepts({type: "string", pattern: "^[0-9]{3}\\w$"}, "\"123_\"")).toBe(true);
        expect(accepts({type: "string", pattern: "^[0-9]{3}\\w$"}, "\"123-\"")).toBe(false);
        expect(accepts({type: "string", pattern: "^\\d+\\/[a-z\\-]+$"}, "\"42/a-b\"")).toBe(true);
        expect(accepts({type: "string", pattern: "^\\d+\\/[a-z\\-]+$"}, "\"42/A\"")).toBe(false);
    });
    test("whitespace is at most one space, so an answer is one line", () => {
        const schema = {type: "object", properties: {a: {type: "integer"}}, required: ["a"]};
        expect(accepts(schema, "{ \"a\" : 1 }")).toBe(true);
        expect(accepts(schema, "{\n  \"a\": 1\n}")).toBe(false);
        expect(accepts(schema, "{\"a\":  1}")).toBe(false);
    });
    test("a negative maximum alone never writes a leading zero", () => {
        expect(accepts({type: "integer", maximum: -5}, "-5")).toBe(true);
        expect(accepts({type: "integer", maximum: -5}, "-32840")).toBe(true);
        expect(accepts({type: "integer", maximum: -5}, "-4")).toBe(false);
        expect(accepts({type: "integer", maximum: -5}, "-05")).toBe(false);
        expect(new GbnfMatcher(cases.find((c) => c.name === "max -5")!.expectedGrammar!).accepts("-05")).toBe(true);
    });
    test("numbers are finite: an exponent has at most two digits", () => {
        expect(accepts({type: "number"}, "-1.5e99")).toBe(true);
        expect(accepts({type: "number"}, "1e400")).toBe(false);
        expect(new GbnfMatcher(cases.find((c) => c.name === "number")!.expectedGrammar!).accepts("1e400")).toBe(true);
    });
    test("minLength/maxLength beside a one-character pattern take the tighter bounds", () => {
        const schema = {type: "string", minLength: 2, maxLength: 4, pattern: "^[a-z]+$"};
        expect(["\"ab\"", "\"abcd\""].map((text) => accepts(schema, text))).toEqual([true, true]);
        expect(["\"a\"", "\"abcde\"", "\"aB\""].map((text) => accepts(schema, text))).toEqual([false, false, false]);
        expect(() => jsonSchemaGrammar({...schema, pattern: "^a(b|c)+$"})).toThrow(/only beside one repeated character/);
    });
});

describe("every keyword of the issue is among the cases that agree with llama.cpp", () => {
    /** The keywords a schema uses (property names and definitions' names aside), `type` lists and formats named. */
    const keywordsOf = (node: unknown, into = new Set<string>(), parent = ""): Set<string> => {
        if (Array.isArray(node)) node.forEach((item) => keywordsOf(item, into));
        else if (typeof node === "object" && node != null) {
            for (const [key, value] of Object.entries(node)) {
                const isName = ["properties", "$defs", "definitions"].includes(parent);
                if (!isName) {
                    into.add(key);
                    if (key === "type" && Array.isArray(value)) into.add("type list");
                    if (key === "format") into.add(`format ${String(value)}`);
                }
                if (!["const", "enum"].includes(key) || isName) keywordsOf(value, into, isName ? "" : key);
            }
        }
        return into;
    };
    const agreed = cases.filter((c) => c.status === "success" && !(c.name in refused));
    test.each(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "format date", "format time",
        "format date-time", "format uuid", "minItems", "maxItems", "anyOf", "oneOf", "allOf", "const", "$ref", "$defs", "additionalProperties",
        "type list", "nullable", "title", "description", "default", "examples"])("%s", (keyword) => {
        const using = agreed.filter((c) => keywordsOf(c.schema).has(keyword));
        expect(using.map(caseName)).not.toEqual([]);
    });
});
