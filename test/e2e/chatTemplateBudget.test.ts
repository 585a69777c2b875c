import {spawn} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, afterEach, beforeAll, describe, expect, test} from "vitest";
import {ggufValue} from "../../src/gguf/write/ggufValues.js";
import {mixtralInstructChatTemplate} from "../../scripts/gguf/mixtralChatTemplate.js";
import {writeTinyModel} from "./helpers/damagedMetadata.js";
import {cliPath, repoRoot, runCli} from "./helpers/runCli.js";
import {startServe, stopAllServers} from "./helpers/serveProcess.js";

/**
 * Chat templates are code from the model file. One that loops (or allocates without end) used to
 * be rendered on the main thread: the process hung for good, deaf to Ctrl+C, or V8 died of it.
 */
const templates = {
    looping: "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{{ messages[0]['content'] }}",
    exhaustingMemory: "{% for i in range(1000000000) %}x{% endfor %}",
    huge: `{# ${"padding ".repeat(40_000)} #}${mixtralInstructChatTemplate}`
};

let dir: string;
const files: Record<string, string> = {};
beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-template-"));
    for (const [name, template] of Object.entries(templates)) {
        files[name] = path.join(dir, `${name}.gguf`);
        await writeTinyModel(files[name], {"tokenizer.chat_template": ggufValue.string(template)});
    }
});
afterAll(() => fs.rmSync(dir, {recursive: true, force: true}));

const chatArgs = (name: string) => ["chat", "--no-history", "-m", files[name]!, "--max-tokens", "4", "--temperature", "0"];

describe("a chat template that cannot be rendered within budget falls back to Mistral's format", () => {
    test.each(Object.keys(templates))("%s", async (name) => {
        const result = await runCli(chatArgs(name), {input: "Hello\n", timeoutMs: 40_000});
        expect(result.signal).toBeNull();
        expect(result.code).toBe(0);
        expect(result.stdout.trim()).not.toBe("");
        expect(result.stderr).toMatch(/note: the model's chat template .*; using Mistral Instruct's format instead\./);
        expect(result.stderr).not.toMatch(/Fatal|\n\s+at /);
    }, 60_000);

    test("Ctrl+C while a looping template is being tried exits 130", async () => {
        // --verbose says when the template is being tried; before the budget, that moment was a hang.
        const child = spawn(process.execPath, [cliPath, ...chatArgs("looping"), "--verbose"], {
            cwd: repoRoot,
            env: {...process.env, NO_COLOR: "1", MIXTRAL_THREADS: "1"},
            stdio: ["pipe", "pipe", "pipe"]
        });
        const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
        let stderr = "";
        child.stdout.resume();
        child.stdin.on("error", () => {});
        child.stdin.end("Hello\n");
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
            stderr += chunk;
            if (stderr.includes("trying the model's chat template")) child.kill("SIGINT");
        });
        const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
        clearTimeout(killer);
        expect(stderr).toContain("trying the model's chat template");
        // 130, or ended by SIGINT itself when the stop outlasts interrupt.ts's grace (a shell shows 130 too).
        expect(code === 130 || signal === "SIGINT", `code ${code}, signal ${signal}`).toBe(true);
    }, 60_000);
});

describe("serve renders the chat template under the same budget", () => {
    afterEach(stopAllServers);

    test("a looping template: serve starts, says so, and answers chat requests in Mistral's format", async () => {
        const server = await startServe([], {model: files.looping!, timeoutMs: 50_000});
        expect(server.stderr()).toMatch(/note: the model's chat template .*; using Mistral Instruct's format instead\./);
        const response = await fetch(`${server.baseUrl}/chat/completions`, {
            method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({messages: [{role: "user", content: "Hello"}], max_tokens: 4, temperature: 0})
        });
        expect(response.status).toBe(200);
        const body = await response.json() as {choices: {finish_reason: string}[]};
        expect(["stop", "length"]).toContain(body.choices[0]!.finish_reason);
    }, 60_000);
});
