import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {runInPty, type PtyRun} from "./helpers/pty.js";
import {runCli, tinyModel} from "./helpers/runCli.js";

/** What users of Ollama and llama.cpp expect: a start line, --version details, list/ls, run, /set, /show, /bye, /?. */
let work: string;
beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-habits-"));
});
afterAll(() => {
    fs.rmSync(work, {recursive: true, force: true});
});

const prompt = "\n> ";

async function command(chat: PtyRun, line: string): Promise<string> {
    chat.write(line + "\r");
    await chat.expect(line + "\n");
    const shown = await chat.expect(prompt);
    return shown.slice(0, -prompt.length).trim();
}

describe("the chat REPL", () => {
    test("says what it loaded on start, and /set, /show, /? and /bye work as Ollama's", async () => {
        const chat = runInPty(["run", "-m", tinyModel(), "--no-history", "-t", "1", "-c", "512", "--max-tokens", "4"], {env: {XDG_CONFIG_HOME: work}});
        const start = await chat.expect(prompt);
        expect(start).toMatch(/(^| )model tiny-q8_0\.gguf, Q8_0, cpu, 0 GPU layers, 512-token context, 1 thread$/m);
        expect(await command(chat, "/?")).toContain("/set <name> <v>");
        expect(await command(chat, "/set temperature 0")).toContain("(temperature set to 0)");
        expect(await command(chat, "/set top-k 7")).toContain("(top-k set to 7)");
        expect(await command(chat, "/set seed 42")).toContain("(seed set to 42)");
        expect(await command(chat, "/set system Be brief.")).toContain("(system text set");
        expect(await command(chat, "/set top-p 2")).toMatch(/error: \/set top-p 2: expected a number from 0 to 1\./);
        expect(await command(chat, "/set colour red")).toMatch(/error: \/set does not know "colour"\./);
        const shown = await command(chat, "/show");
        expect(shown).toMatch(/^temperature +0$/m);
        expect(shown).toMatch(/^top-k +7$/m);
        expect(shown).toMatch(/^max-tokens +4$/m);
        expect(shown).toMatch(/^seed +42$/m);
        expect(shown).toMatch(/^system +Be brief\.$/m);
        chat.write("/bye\r");
        expect(await chat.exit()).toBe(0);
    });
});

describe("the command line", () => {
    test("--version names node-llama-cpp, the llama.cpp build and the backends that load", async () => {
        const version = await runCli(["--version"]);
        expect(version.code).toBe(0);
        const lines = version.stdout.trimEnd().split("\n");
        expect(lines[0]).toMatch(/^\d+\.\d+\.\d+$/);
        expect(lines[1]).toBe("node-llama-cpp 3.21.1");
        expect(lines[2]).toMatch(/^llama\.cpp build [0-9a-f]{7,40} \(\d+\)$/);
        expect(lines[3]).toMatch(/^backends: .*cpu loads/);
    });

    test("list and ls show only the downloaded models", async () => {
        const store = path.join(work, "store");
        fs.mkdirSync(path.join(store, "hf", "o", "r", "@main"), {recursive: true});
        fs.copyFileSync(tinyModel(), path.join(store, "mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf"));
        fs.copyFileSync(tinyModel(), path.join(store, "hf", "o", "r", "@main", "x.gguf"));
        for (const name of ["list", "ls"]) {
            const list = await runCli([name], {env: {MIXTRAL_MODELS: store}});
            expect(list.code, list.stderr).toBe(0);
            const rows = list.stdout.trimEnd().split("\n");
            expect(rows[0]).toMatch(/^NAME +SIZE +MODIFIED +PATH$/);
            expect(rows.slice(1).map((row) => row.split(/\s+/)[0])).toEqual(["hf/o/r/@main/x.gguf", "instruct:Q4_K_M"]);
        }
        const json = await runCli(["ls", "--json"], {env: {MIXTRAL_MODELS: store}});
        expect((JSON.parse(json.stdout) as {name: string}[]).map((row) => row.name)).toEqual(["hf/o/r/@main/x.gguf", "instruct:Q4_K_M"]);
    });

    test("list shows LoRA adapters apart from the models, and says so when no model is downloaded", async () => {
        const store = path.join(work, "adapters-only");
        fs.mkdirSync(store, {recursive: true});
        const empty = await runCli(["list"], {env: {MIXTRAL_MODELS: store}});
        expect(empty.code, empty.stderr).toBe(0);
        expect(empty.stderr).toMatch(/^No models downloaded yet \(store: .*\)\. `mixtral pull <name>` downloads one/m);

        fs.mkdirSync(path.join(store, "hf", "wangrongsheng", "Aurora"), {recursive: true});
        fs.writeFileSync(path.join(store, "hf", "wangrongsheng", "Aurora", "aurora.lora.gguf"), "GGUF adapter bytes");
        const list = await runCli(["list"], {env: {MIXTRAL_MODELS: store}});
        const [models, adapters] = list.stdout.split("\n\n");
        expect(models?.trimEnd()).toMatch(/^NAME +SIZE +MODIFIED +PATH$/);
        expect(adapters?.trimEnd().split("\n").map((row) => row.split(/\s+/)[0])).toEqual(["LORA", "aurora"]);
        expect(list.stderr).toMatch(/LoRA adapters are not models: pass one with --lora <path>, or a fine-tune's name as --model \(`-m aurora` is instruct with its adapter\)/);
        const json = JSON.parse((await runCli(["ls", "--json"], {env: {MIXTRAL_MODELS: store}})).stdout) as Record<string, unknown>[];
        expect(json).toMatchObject([{name: "aurora", kind: "adapter", base: "instruct"}]);
    });

    test("run is chat", async () => {
        const run = await runCli(["run", "-m", tinyModel(), "--temperature", "0", "-n", "4"], {input: "hello"});
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout.length).toBeGreaterThan(0);
    });
});
