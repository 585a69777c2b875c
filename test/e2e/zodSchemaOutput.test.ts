import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import os from "node:os";
import path from "node:path";
import {createOpenAICompatible} from "@ai-sdk/openai-compatible";
import {generateObject} from "ai";
import {Ajv2020} from "ajv/dist/2020.js";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {z} from "zod";
import {runCli, tinyModel} from "./helpers/runCli.js";
import {startServe, stopAllServers, type ServeProcess} from "./helpers/serveProcess.js";

// Schemas as zod 4 writes them (z.toJSONSchema, which the AI SDK sends as response_format): integer
// bounds on every .int(), lengths beside a regex, array bounds, enums, optional and nested objects. On
// the tiny random-weight model at temperature 1 nothing but the grammar keeps the output valid; every one
// of 20 seeds must validate, with ajv and with zod itself, through the CLI and through `mixtral serve`.
const Pet = z.object({
    name: z.string().min(2).max(12).regex(/^[a-z]+$/),
    age: z.int().min(0).max(30),
    weight: z.int().min(-5).max(250),
    kind: z.enum(["cat", "dog", "bird"]),
    tags: z.array(z.string().max(8)).max(3),
    nickname: z.string().max(10).optional(),
    owner: z.object({id: z.int(), email: z.string().max(20).optional(), verified: z.boolean().nullable()}),
    born: z.iso.date()
});
const schema = z.toJSONSchema(Pet);
const validate = new Ajv2020({strict: false, validateFormats: false}).compile(schema);
const seeds = Array.from({length: 20}, (_, index) => index + 1);

function expectValid(text: string) {
    const value = JSON.parse(text) as unknown;
    expect(validate(value), `${text} ${JSON.stringify(validate.errors)}`).toBe(true);
    expect(Pet.safeParse(value).success, text).toBe(true);
}

describe("zod-written schemas", () => {
    let dir: string;
    beforeAll(() => {
        dir = mkdtempSync(path.join(os.tmpdir(), "mixtral-zod-"));
    });
    afterAll(() => rmSync(dir, {recursive: true, force: true}));

    test("the schema has the keywords zod writes", () => {
        expect(JSON.stringify(schema)).toMatch(/"minimum":-9007199254740991/);
        expect(JSON.stringify(schema)).toMatch(/"minLength":2,"maxLength":12,"pattern"/);
        expect(JSON.stringify(schema)).toMatch(/"maxItems":3/);
        expect(JSON.stringify(schema)).toMatch(/"format":"date","pattern":"\^\(\?:/);
    });

    test("complete --json-schema: 20 seeds at temperature 1 all validate", async () => {
        const file = path.join(dir, "pet.json");
        writeFileSync(file, JSON.stringify(schema));
        const texts = new Set<string>();
        for (const seed of seeds) {
            const result = await runCli(["complete", "-m", tinyModel(), "--json-schema", file, "--temperature", "1", "--seed", String(seed), "-n", "400", "Pet:"]);
            expect(result.code, result.stderr).toBe(0);
            expectValid(result.stdout.trim());
            texts.add(result.stdout);
        }
        expect(texts.size).toBeGreaterThan(10);
    }, 240_000);
});

describe("zod-written schemas through mixtral serve and the AI SDK", () => {
    let server: ServeProcess;
    beforeAll(async () => {
        server = await startServe(["--parallel", "2", "--context-size", "2048"]);
    });
    afterAll(stopAllServers);

    test("generateObject with @ai-sdk/openai-compatible: 20 seeds at temperature 1 all validate", async () => {
        const provider = createOpenAICompatible({name: "mixtral", baseURL: server.baseUrl, apiKey: "unused", supportsStructuredOutputs: true});
        const texts = new Set<string>();
        for (const seed of seeds) {
            const result = await generateObject({model: provider.chatModel("tiny"), schema: Pet, prompt: "Describe a pet.",
                temperature: 1, seed, maxOutputTokens: 400, maxRetries: 0});
            expect(result.finishReason).toBe("stop");
            expectValid(JSON.stringify(result.object));
            texts.add(JSON.stringify(result.object));
        }
        expect(texts.size).toBeGreaterThan(10);
    }, 240_000);
});
