import {readdirSync, readFileSync} from "node:fs";
import path from "node:path";
import OpenAI from "openai";
import {afterAll, describe, expect, test} from "vitest";
import {runCli, tinyModel} from "./helpers/runCli.js";
import {startServe, stopAllServers} from "./helpers/serveProcess.js";

afterAll(stopAllServers);

describe("mixtral serve --alias", () => {
    test("lists the alias instead of the file's id, retrieves it by either, names answers sent without a model by it", async () => {
        const server = await startServe(["--parallel", "1", "--alias", "mixtral-8x7b"]);
        expect(server.stderr()).toMatch(/Serving tiny-q8_0 as mixtral-8x7b at http/);
        const client = new OpenAI({baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0});

        const models = await client.models.list();
        expect(models.data.map((model) => model.id)).toEqual(["mixtral-8x7b"]);
        expect(await client.models.retrieve("mixtral-8x7b")).toEqual(models.data[0]);
        expect(await client.models.retrieve("tiny-q8_0")).toEqual(models.data[0]);
        await expect(client.models.retrieve("mixtral-8x22b")).rejects.toBeInstanceOf(OpenAI.NotFoundError);

        const unnamed = await fetch(`${server.baseUrl}/completions`, {
            method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({prompt: "Hello", max_tokens: 2, temperature: 0})
        });
        expect((await unnamed.json() as {model: string}).model).toBe("mixtral-8x7b");
        const named = await client.chat.completions.create({model: "tiny-q8_0", messages: [{role: "user", content: "hi"}], max_tokens: 2});
        expect(named.model).toBe("tiny-q8_0");

        // Other mixtral commands that find this server send the listed name.
        const files = readdirSync(path.join(server.runtimeDir, "servers"));
        const announcement = JSON.parse(readFileSync(path.join(server.runtimeDir, "servers", files[0]!), "utf8")) as Record<string, unknown>;
        expect(announcement).toMatchObject({modelPath: tinyModel(), modelId: "mixtral-8x7b"});
    });

    test("an empty alias is a usage error", async () => {
        const result = await runCli(["serve", "--model", tinyModel(), "--port", "0", "--alias", " "]);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/--alias/);
    });
});
