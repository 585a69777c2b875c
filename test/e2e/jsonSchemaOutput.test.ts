import {readFileSync} from "node:fs";
import path from "node:path";
import {Ajv} from "ajv";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {generate} from "../../src/engine/direct/generate.js";
import {tokenizePrompt} from "../../src/engine/generation/tokenizePrompt.js";
import {openModel, type OpenedModel} from "../../src/engine/index.js";
import type {SamplingOptions} from "../../src/generator/sampling.js";
import {anyJsonObjectGrammar, jsonSchemaGrammar} from "../../src/grammar/jsonSchemaToGbnf.js";
import {checkGbnf} from "../../src/grammar/parseGbnf.js";
import {repoRoot, tinyModel} from "./helpers/runCli.js";

// Random weights at temperature 1 are the hardest case for a grammar: nothing but the sampler keeps
// the output valid. Each schema runs 20 seeds through the real engine (one model load for all).
const schemasDir = path.join(repoRoot, "test", "fixtures", "schemas");
const schemas = ["pet.json", "order.json", "labels.json"];
const seeds = Array.from({length: 20}, (_, index) => index + 1);
const sampling = (seed: number): Omit<SamplingOptions, "grammar"> =>
    ({maxTokens: 400, temperature: 1, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, seed, stop: []});

let opened: OpenedModel;
beforeAll(async () => {
    opened = await openModel({path: tinyModel(), gpu: "cpu", threads: 1, contextSize: 512});
});
afterAll(async () => {
    await opened?.dispose();
});

async function run(prompt: string, options: SamplingOptions) {
    await opened.sequence.clearHistory();
    return generate(opened.sequence, tokenizePrompt(opened.sequence, prompt), options);
}

describe("--json-schema output on the real engine", () => {
    test.each(schemas)("%s: 20 seeds at temperature 1 all parse and validate with ajv", async (file) => {
        const schema = JSON.parse(readFileSync(path.join(schemasDir, file), "utf8")) as object;
        const validate = new Ajv({strict: true}).compile(schema);
        const grammar = jsonSchemaGrammar(schema);
        expect(checkGbnf(grammar.gbnf)).toBeUndefined();
        const texts = new Set<string>();
        for (const seed of seeds) {
            const result = await run("Answer in JSON:", {...sampling(seed), grammar});
            expect(result.complete, `seed ${seed}: ${result.text}`).toBe(true);
            expect(result.stopReason).toBe("eos");
            // Ends the moment the value is complete: nothing after the closing bracket.
            expect(result.text).toMatch(/[}\]]$/);
            const value = JSON.parse(result.text) as unknown;
            expect(validate(value), `seed ${seed}: ${result.text} ${JSON.stringify(validate.errors)}`).toBe(true);
            texts.add(result.text);
        }
        // Seeds really sample different outputs.
        expect(texts.size).toBeGreaterThan(10);
    }, 240_000);

    test("numbers are finite, integers whole, and an answer is one line", async () => {
        const grammar = jsonSchemaGrammar({type: "array", minItems: 6, maxItems: 6, items: {type: "object", properties: {i: {type: "integer"}, n: {type: "number"}}, required: ["i", "n"]}});
        for (const seed of seeds.slice(0, 5)) {
            const result = await run("[", {...sampling(seed), grammar});
            expect(result.complete).toBe(true);
            expect(result.text).not.toContain("\n");
            for (const item of JSON.parse(result.text) as {i: number, n: number}[]) {
                expect(Number.isInteger(item.i), result.text).toBe(true);
                expect(Number.isFinite(item.n), result.text).toBe(true);
            }
        }
    });

    test("--format json gives one JSON object", async () => {
        let completed = 0;
        for (const seed of seeds.slice(0, 5)) {
            const result = await run("{", {...sampling(seed), maxTokens: 500, grammar: anyJsonObjectGrammar()});
            // Any object may nest without end on random weights; a complete one must parse.
            if (result.complete !== true) {
                expect(result.stopReason).toBe("maxTokens");
                continue;
            }
            const value = JSON.parse(result.text) as unknown;
            expect(typeof value === "object" && value != null && !Array.isArray(value), result.text).toBe(true);
            completed++;
        }
        expect(completed).toBeGreaterThan(0);
    });

    test("a cut output is reported incomplete", async () => {
        const result = await run("x", {...sampling(1), maxTokens: 3, grammar: jsonSchemaGrammar(JSON.parse(readFileSync(path.join(schemasDir, "pet.json"), "utf8")))});
        expect(result).toMatchObject({stopReason: "maxTokens", complete: false, tokens: {generated: 3}});
    });
});
