import {afterAll, beforeAll, describe, expect, test} from "vitest";
import type {Llama} from "node-llama-cpp";
import {loadLlama} from "../../src/engine/native/loadLlama.js";
import {anyJsonObjectGrammar, jsonSchemaGrammar} from "../../src/grammar/jsonSchemaToGbnf.js";
import {checkGbnf} from "../../src/grammar/parseGbnf.js";

const supported: [string, unknown][] = [
    ["a string with a length range", {type: "string", minLength: 2, maxLength: 5}],
    ["formats", {type: "object", properties: {d: {type: "string", format: "date"}, t: {type: "string", format: "date-time"}, u: {type: "string", format: "uuid"}}}],
    ["a recursive $ref", {$defs: {node: {type: "object", properties: {value: {type: "integer"}, next: {anyOf: [{$ref: "#/$defs/node"}, {type: "null"}]}}}}, $ref: "#/$defs/node"}],
    ["prefixItems", {type: "array", prefixItems: [{type: "string"}, {type: "number"}], items: false}],
    ["a map", {type: "object", additionalProperties: {type: "integer"}}],
    ["integer bounds as zod writes them", {type: "integer", minimum: -9007199254740991, maximum: 9007199254740991}],
    ["a pattern with lengths", {type: "string", minLength: 1, maxLength: 8, pattern: "^[a-z0-9_]+$"}],
    ["zod's date pattern", {type: "string", format: "date", pattern: "^(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))$"}],
    ["zod's email pattern beside its format", {type: "string", format: "email", pattern: "^(?:[A-Za-z0-9_'+\\-]+\\.)*[A-Za-z0-9_'+\\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}$"}],
    ["allOf", {allOf: [{type: "object", properties: {a: {type: "integer"}}, required: ["a"]}, {type: "object", properties: {b: {type: "string"}}}]}],
    ["nullable", {type: "object", properties: {a: {type: "string", nullable: true}}, required: ["a"]}],
    ["const and oneOf", {oneOf: [{const: {a: [1, "x\"y"]}}, {type: "boolean"}]}],
    ["type lists", {type: ["integer", "null"]}],
    ["annotations", {$schema: "https://json-schema.org/draft/2020-12/schema", title: "t", description: "d", type: "object", properties: {a: {type: "string", default: "x", examples: ["y"]}}}],
    ["true", true],
    ["a required name without a schema", {type: "object", required: ["anything"]}],
    ["keys that need escaping", {type: "object", properties: {"a\"b\\c\n": {type: "null"}, "ünï code": {type: "boolean"}}}]
];

describe("JSON schema to GBNF", () => {
    test.each(supported)("%s gives a grammar llama.cpp's parser accepts", (_name, schema) => {
        expect(checkGbnf(jsonSchemaGrammar(schema).gbnf)).toBeUndefined();
    });

    test.each([
        [{type: "string", pattern: "a"}, /the pattern "a" must be anchored with \^ and \$/],
        [{type: "string", pattern: "^a(?=b)$"}, /the pattern "\^a\(\?=b\)\$" has a lookaround, named group or flag at character 3 /],
        [{type: "string", pattern: "^a\\sb$"}, /has an escape \\s a grammar cannot produce inside a JSON string at character 3 /],
        [{type: "number", minimum: 1}, /"minimum" cannot be honoured here: it is supported on integers\.$/],
        [{minimum: 1}, /"minimum" cannot be honoured here: it is supported on integers \(give a "type"\)/],
        [{type: "object", properties: {a: {type: "array", items: {type: "number", multipleOf: 2}}}}, /"multipleOf" is not supported \(at \/properties\/a\/items\)/],
        [{type: "array", items: {type: "string"}, uniqueItems: true}, /the keyword "uniqueItems" is not supported/],
        [{type: "object", additionalProperties: {type: "integer"}, minProperties: 1}, /the keyword "minProperties" is not supported/],
        [{allOf: [{type: "string"}, {type: "integer"}]}, /an "allOf" component must be an object with "properties", an "enum"/],
        [{type: "object", propertiez: {}}, /"propertiez" is not supported/],
        [{type: "string", format: "email"}, /format "email" is not supported/],
        [{type: "strin"}, /unknown type "strin"/],
        [{$ref: "#/$defs/missing"}, /does not point into this schema/],
        [{$ref: "https://example.com/schema.json"}, /only references into this schema/],
        [{type: "array", minItems: 3, maxItems: 2}, /"maxItems" is below "minItems"/],
        [{type: "string", maxLength: 5000}, /above 1000 is not supported/],
        [{type: "integer", minimum: 5, maximum: 4}, /no integer lies between the minimum and the maximum/],
        [{type: "string", anyOf: [{type: "integer"}]}, /"type" beside "anyOf" is not supported/],
        [[1], /must be a JSON object/]
    ])("%j is a usage error naming the problem", (schema, message) => {
        let error: unknown;
        try {
            jsonSchemaGrammar(schema);
        } catch (caught) {
            error = caught;
        }
        expect(error).toMatchObject({exitCode: 2, message: expect.stringMatching(message)});
    });

    test("a schema nested too deep, a $ref cycle that never ends, too many enum values or properties: one sentence each, quickly", () => {
        let deep: unknown = {type: "string"};
        for (let level = 0; level < 1200; level++) deep = {type: "array", items: deep};
        const started = performance.now();
        const cases: [unknown, RegExp][] = [
            [deep, /^--json-schema: the schema is nested more than 128 levels deep \(at (\/items){129}\)\.$/],
            // Required at every level: no finite value exists (llama.cpp accepts the grammar; the answer could never end).
            [{$ref: "#/$defs/a", $defs: {a: {type: "object", properties: {a: {$ref: "#/$defs/a"}}, required: ["a"]}}}, /"\$ref" cycle never ends.* \(at \/\$defs\/a\)\.$/],
            // A definition that is only itself (llama.cpp: "left-recursive").
            [{$ref: "#/$defs/a", $defs: {a: {$ref: "#/$defs/a"}}}, /"\$ref" cycle never ends.* \(at \/\$defs\/a\)\.$/],
            [{type: "object", properties: {a: {enum: Array.from({length: 600}, (_, index) => index)}, b: {enum: Array.from({length: 600}, (_, index) => index)}}},
                /more than 1000 enum values in all.* \(at \/properties\/b\/enum\)/],
            [{type: "object", properties: Object.fromEntries(Array.from({length: 20_000}, (_, index) => [`p${index}`, {type: "string"}]))},
                /more than 1000 properties in all.* \(at \/properties\)/]
        ];
        for (const [schema, message] of cases)
            expect(() => jsonSchemaGrammar(schema)).toThrow(expect.objectContaining({exitCode: 2, message: expect.stringMatching(message)}));
        expect(performance.now() - started).toBeLessThan(1000);
        // Cycles that may end are grammars as before.
        expect(checkGbnf(jsonSchemaGrammar({$ref: "#/$defs/a", $defs: {a: {type: "array", items: {$ref: "#/$defs/a"}}}}).gbnf)).toBeUndefined();
        expect(checkGbnf(jsonSchemaGrammar({$ref: "#/$defs/a", $defs: {a: {type: "object", properties: {a: {$ref: "#/$defs/a"}}}}}).gbnf)).toBeUndefined();
    });

    test("1,000 optional properties are converted in well under a second (the rule of the remaining keys is written once)", () => {
        const started = performance.now();
        const {gbnf} = jsonSchemaGrammar({type: "object", properties: Object.fromEntries(Array.from({length: 1000}, (_, index) => [`p${index}`, {type: "string"}]))});
        expect(performance.now() - started).toBeLessThan(1000);
        expect(checkGbnf(gbnf)).toBeUndefined();
    });

    test("integers are llama.cpp's (up to 16 digits); numbers' exponents have at most two digits, so they stay finite", () => {
        const {gbnf} = jsonSchemaGrammar({type: "object", properties: {i: {type: "integer"}, n: {type: "number"}}});
        expect(gbnf).toContain("integer ::= (\"-\"? integral-part)");
        expect(gbnf).toContain("integral-part ::= [0] | [1-9] [0-9]{0,15}");
        expect(gbnf).toContain("([eE] [-+]? ([0] | [1-9] [0-9]?))?");
    });

    test("whitespace is one optional space", () => {
        expect(jsonSchemaGrammar({type: "object"}).gbnf).toContain("space ::= | \" \"\n");
    });

    test("objects, arrays and strings end generation when complete; numbers leave it to the model", () => {
        expect(jsonSchemaGrammar({type: "object"}).closed).toBe(true);
        expect(jsonSchemaGrammar({type: "array", items: {type: "integer"}}).closed).toBe(true);
        expect(jsonSchemaGrammar({enum: ["a", "b"]}).closed).toBe(true);
        expect(jsonSchemaGrammar({type: "integer"}).closed).toBe(false);
        expect(jsonSchemaGrammar({enum: [1, 12]}).closed).toBe(false);
        expect(jsonSchemaGrammar({anyOf: [{type: "string"}, {type: "number"}]}).closed).toBe(false);
        expect(jsonSchemaGrammar({type: ["string", "null"]}).closed).toBe(true);
        expect(jsonSchemaGrammar({type: "integer", minimum: 0, nullable: true}).closed).toBe(false);
        expect(jsonSchemaGrammar(true).closed).toBe(false);
        expect(anyJsonObjectGrammar().closed).toBe(true);
    });
});

describe("the generated grammars parse natively", () => {
    let llama: Llama;
    beforeAll(async () => {
        llama = await loadLlama({gpu: "cpu", threads: 1});
    });
    afterAll(async () => {
        await llama?.dispose();
    });

    test("every supported schema and --format json", async () => {
        for (const [name, schema] of supported)
            await expect(llama.createGrammar({grammar: jsonSchemaGrammar(schema).gbnf}), name).resolves.toBeDefined();
        await expect(llama.createGrammar({grammar: anyJsonObjectGrammar().gbnf})).resolves.toBeDefined();
    });
});
