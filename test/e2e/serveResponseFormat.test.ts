import {readFileSync} from "node:fs";
import path from "node:path";
import {Ajv} from "ajv";
import OpenAI from "openai";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {repoRoot} from "./helpers/runCli.js";
import {startServe, stopAllServers, type ServeProcess} from "./helpers/serveProcess.js";

// response_format through the real `openai` client: the server's batch scheduler enforces the
// same grammars as `complete --json-schema`, on the tiny random-weight model at temperature 1.
let server: ServeProcess;
let client: OpenAI;
const schema = JSON.parse(readFileSync(path.join(repoRoot, "test", "fixtures", "schemas", "order.json"), "utf8")) as Record<string, unknown>;

beforeAll(async () => {
    server = await startServe(["--parallel", "3"]);
    client = new OpenAI({baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0});
});
afterAll(stopAllServers);

describe("response_format on mixtral serve", () => {
    test("json_schema: concurrent chat answers at temperature 1 all validate, and end with the JSON", async () => {
        const validate = new Ajv({strict: true}).compile(schema);
        const answers = await Promise.all(Array.from({length: 6}, (_, seed) => client.chat.completions.create({
            messages: [{role: "user", content: "Give me an order as JSON."}],
            temperature: 1, seed, max_tokens: 400,
            response_format: {type: "json_schema", json_schema: {name: "order", schema, strict: true}}
        })));
        for (const answer of answers) {
            const content = answer.choices[0]!.message.content!;
            expect(answer.choices[0]!.finish_reason, content).toBe("stop");
            expect(validate(JSON.parse(content)), `${content} ${JSON.stringify(validate.errors)}`).toBe(true);
            expect(content.endsWith("}")).toBe(true);
        }
    });

    test("json_object on raw completions gives one object; a cut one is finish_reason length", async () => {
        // response_format is a chat parameter in the client's types; the server takes it on /completions too.
        const answer = await client.completions.create({model: "tiny-q8_0", prompt: "{", temperature: 0.7, seed: 3, max_tokens: 300,
            ...{response_format: {type: "json_object"}}});
        const text = answer.choices[0]!.text;
        if (answer.choices[0]!.finish_reason === "stop") expect(typeof JSON.parse(text)).toBe("object");
        else expect(answer.choices[0]!.finish_reason).toBe("length");

        const cut = await client.chat.completions.create({messages: [{role: "user", content: "JSON please"}], max_tokens: 3,
            response_format: {type: "json_schema", json_schema: {name: "order", schema}}});
        expect(cut.choices[0]!.finish_reason).toBe("length");
    });

    test("an unsupported keyword is a 400 naming it", async () => {
        const request = client.chat.completions.create({messages: [{role: "user", content: "Hi"}],
            response_format: {type: "json_schema", json_schema: {name: "x", schema: {type: "array", items: {type: "integer", multipleOf: 3}}}}});
        await expect(request).rejects.toMatchObject({status: 400, param: "response_format",
            message: expect.stringContaining("the keyword \"multipleOf\" is not supported (at /items)")});
        await expect(client.chat.completions.create({messages: [{role: "user", content: "Hi"}],
            // An unknown type, as a careless client might send it.
            response_format: {type: "yaml"} as unknown as {type: "text"}})).rejects.toMatchObject({status: 400, param: "response_format"});
    });
});
