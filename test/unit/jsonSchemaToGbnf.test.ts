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
    ["a map", {type: "object", additionalProperties: {type: "integer"}, minProperties: 1, maxProperties: 4}],
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
        [{type: "string", pattern: "a"}, /the keyword "pattern" is not supported\.$/],
        [{type: "integer", minimum: 1}, /the keyword "minimum" is not supported/],
        [{type: "object", properties: {a: {type: "array", items: {type: "number", multipleOf: 2}}}}, /"multipleOf" is not supported \(at \/properties\/a\/items\)/],
        [{allOf: [{type: "string"}]}, /"allOf" is not supported/],
        [{type: "object", propertiez: {}}, /"propertiez" is not supported/],
        [{type: "string", format: "email"}, /format "email" is not supported/],
        [{type: "strin"}, /unknown type "strin"/],
        [{$ref: "#/$defs/missing"}, /does not point into/],
        [{type: "array", minItems: 3, maxItems: 2}, /"maxItems" is below "minItems"/],
        [{type: "string", maxLength: 5000}, /above 1000 is not supported/],
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

    test("integers and numbers allow no exponent and at most 15 digits before the point", () => {
        const {gbnf} = jsonSchemaGrammar({type: "object", properties: {i: {type: "integer"}, n: {type: "number"}}});
        expect(gbnf).toContain("integer ::= \"-\"? (\"0\" | [1-9] [0-9]{0,14})");
        expect(gbnf).toContain("number ::= integer (\".\" [0-9]{1,15})?");
        expect(gbnf).not.toMatch(/[eE]"/);
    });

    test("objects, arrays and strings end generation when complete; numbers leave it to the model", () => {
        expect(jsonSchemaGrammar({type: "object"}).closed).toBe(true);
        expect(jsonSchemaGrammar({type: "array", items: {type: "integer"}}).closed).toBe(true);
        expect(jsonSchemaGrammar({enum: ["a", "b"]}).closed).toBe(true);
        expect(jsonSchemaGrammar({type: "integer"}).closed).toBe(false);
        expect(jsonSchemaGrammar({enum: [1, 12]}).closed).toBe(false);
        expect(jsonSchemaGrammar({anyOf: [{type: "string"}, {type: "number"}]}).closed).toBe(false);
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
