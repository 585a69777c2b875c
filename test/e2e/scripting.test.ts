import {spawn, type ChildProcess} from "node:child_process";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import path from "node:path";
import {afterAll, afterEach, describe, expect, test} from "vitest";
import {cliPath, repoRoot, runCli, tinyModel} from "./helpers/runCli.js";

// Tests that spawn several processes in a row get room for a loaded machine (each load takes seconds there).
const severalRuns = 240_000;

const greedy = ["--temperature", "0", "--repeat-penalty", "1"];
const dir = mkdtempSync(path.join(tmpdir(), "mixtral-scripting-"));
afterAll(() => rmSync(dir, {recursive: true, force: true}));
function file(name: string, text: string): string {
    const target = path.join(dir, name);
    writeFileSync(target, text);
    return target;
}
const petSchema = path.join(repoRoot, "test", "fixtures", "schemas", "pet.json");
// A model path that does not exist: a usage error about the schema proves nothing was loaded.
const noModel = path.join(dir, "missing-model.gguf");

describe("constrained output from the command line", () => {
    test("--json-schema prints one JSON value that parses, and only a newline after it", async () => {
        const result = await runCli(["complete", "-m", tinyModel(), "--json-schema", petSchema, "--temperature", "1", "--seed", "4", "-n", "200", "Pet:"]);
        expect(result.code, result.stderr).toBe(0);
        const value = JSON.parse(result.stdout) as {kind: string};
        expect(["cat", "dog", "bird"]).toContain(value.kind);
        expect(result.stdout.endsWith("}\n")).toBe(true);
    });

    test("a GBNF grammar root ::= \"yes\" | \"no\" yields only yes or no", async () => {
        const grammar = file("yesno.gbnf", "root ::= \"yes\" | \"no\"\n");
        const prompts = Array.from({length: 12}, (_, index) => `Question ${index}: is it?`).join("\n") + "\n";
        const result = await runCli(["complete", "-m", tinyModel(), "--grammar", grammar, "--temperature", "1", "--lines"], {input: prompts});
        expect(result.code, result.stderr).toBe(0);
        const answers = result.stdout.split("\n").slice(0, -1);
        expect(answers).toHaveLength(12);
        for (const answer of answers) expect(["yes", "no"]).toContain(answer);
    });

    test("output cut by --max-tokens exits 3 and is not printed as if it were valid", async () => {
        const result = await runCli(["complete", "-m", tinyModel(), "--json-schema", petSchema, "-n", "4", "Pet:"]);
        expect(result.code).toBe(3);
        expect(result.stdout).toBe("");
        expect(result.stderr).toContain("The output was cut at 4 tokens before the JSON was complete; raise --max-tokens.");

        // A seed whose first tokens do not close the object ("{}" would be complete, and valid).
        const json = await runCli(["complete", "-m", tinyModel(), "--format", "json", "-n", "4", "--seed", "1", "--json", "Pet:"]);
        expect(json.code).toBe(3);
        expect(JSON.parse(json.stdout)).toMatchObject({stopReason: "maxTokens", complete: false, tokens: {generated: 4}});
    }, severalRuns);

    test.each([
        ["an unsupported keyword", ["--json-schema", "{\"type\": \"array\", \"uniqueItems\": true}"], /--json-schema: the keyword "uniqueItems" is not supported\.$/m],
        ["a nested keyword the grammar cannot honour", ["--json-schema", "{\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"number\", \"minimum\": 0}}}"], /"minimum" cannot be honoured here: it is supported on integers \(at \/properties\/n\)/],
        ["a pattern outside llama.cpp's regex subset", ["--json-schema", "{\"type\": \"string\", \"pattern\": \"^a(?!b)$\"}"], /the pattern "\^a\(\?!b\)\$" has a lookaround, named group or flag at character 3 /],
        ["a schema file that is not JSON", ["--json-schema", "BROKEN"], /--json-schema: .*broken\.json is not valid JSON/],
        ["a missing grammar file", ["--grammar", "MISSING"], /--grammar: cannot read .*missing\.gbnf \(no such file\)/],
        ["a grammar that does not parse", ["--grammar", "BAD"], /--grammar .*bad\.gbnf: undefined rule 'no' at line 2, column 18\./],
        ["two constraints at once", ["--format", "json", "--grammar", "BAD"], /Give only one of --json-schema, --grammar and --format/]
    ])("%s is one error line and exit 2, before any model load", async (_name, flags, message) => {
        const args = flags.map((flag) => flag === "BROKEN" ? file("broken.json", "{\"type\": \"object\",}")
            : flag === "MISSING" ? path.join(dir, "missing.gbnf")
            : flag === "BAD" ? file("bad.gbnf", "# answers\nroot ::= \"yes\" | no\n") : flag);
        const result = await runCli(["complete", "-m", noModel, ...args, "Hello"]);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(message);
        expect(result.stderr.trim().split("\n")).toHaveLength(1);
        expect(result.stderr).not.toContain("missing-model");
        expect(result.stdout).toBe("");
    });

    test("chat takes a schema too", async () => {
        const result = await runCli(["chat", "-m", tinyModel(), "--json-schema", petSchema, "--temperature", "1", "--seed", "2", "-n", "200", "--no-history"], {input: "Describe a pet.\n"});
        expect(result.code, result.stderr).toBe(0);
        expect(["cat", "dog", "bird"]).toContain((JSON.parse(result.stdout) as {kind: string}).kind);
    });
});

describe("complete --lines", () => {
    const prompts = ["The cat sat on the", "Once upon a time", "", "Hello world", "Why is the sky", "1, 2, 3,"];

    test("answers 5 lines in order with one model load, each as the same prompt alone (a Windows editor's BOM before the first dropped)", async () => {
        const result = await runCli(["complete", "-m", tinyModel(), ...greedy, "-n", "12", "--lines", "--json"], {input: "\uFEFF" + prompts.join("\n") + "\n"});
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toContain("1 empty line was skipped");
        const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as {line: number, prompt: string, text: string, stopReason: string, tokens: {generated: number}});
        expect(lines.map((line) => line.line)).toEqual([1, 2, 4, 5, 6]);
        expect(lines.map((line) => line.prompt)).toEqual(prompts.filter((prompt) => prompt !== ""));
        for (const line of lines) {
            expect(Object.keys(line).sort()).toEqual(["line", "prompt", "stopReason", "text", "timings", "tokens"]);
            const alone = await runCli(["complete", "-m", tinyModel(), ...greedy, "-n", "12", "--raw", line.prompt]);
            expect(alone.code).toBe(0);
            expect(line.text, line.prompt).toBe(alone.stdout);
        }
    }, severalRuns);

    test("--parallel 3 decodes prompts together and prints the same answers in the same order", async () => {
        const input = prompts.join("\n") + "\n";
        const one = await runCli(["complete", "-m", tinyModel(), ...greedy, "-n", "16", "--lines"], {input});
        const three = await runCli(["complete", "-m", tinyModel(), ...greedy, "-n", "16", "--lines", "--parallel", "3", "--verbose"], {input});
        expect(three.code, three.stderr).toBe(0);
        expect(three.stderr).toContain("3 at a time");
        expect(three.stdout).toBe(one.stdout);
        expect(three.stdout.split("\n")).toHaveLength(6);
    }, severalRuns);

    test("--parallel keeps every answer inside a schema", async () => {
        const input = Array.from({length: 8}, (_, index) => `Pet number ${index}:`).join("\n") + "\n";
        const result = await runCli(["complete", "-m", tinyModel(), "--temperature", "1", "-n", "300", "--lines", "--parallel", "4", "--json-schema", petSchema], {input});
        expect(result.code, result.stderr).toBe(0);
        const answers = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as {kind: string});
        expect(answers).toHaveLength(8);
        for (const answer of answers) expect(["cat", "dog", "bird"]).toContain(answer.kind);
    });

    test("plain output is one line an answer, newlines inside written as \\n", async () => {
        const result = await runCli(["complete", "-m", tinyModel(), ...greedy, "-n", "40", "--lines"], {input: "A\nB\n"});
        expect(result.code, result.stderr).toBe(0);
        const answers = result.stdout.split("\n");
        expect(answers).toHaveLength(3);
        expect(answers[2]).toBe("");
        const json = await runCli(["complete", "-m", tinyModel(), ...greedy, "-n", "40", "--lines", "--json"], {input: "A\nB\n"});
        const texts = json.stdout.trim().split("\n").map((line) => (JSON.parse(line) as {text: string}).text);
        expect(answers.slice(0, 2)).toEqual(texts.map((text) => text.replace(/\r/g, "\\r").replace(/\n/g, "\\n")));
    }, severalRuns);

    let child: ChildProcess | undefined;
    afterEach(() => {
        child?.kill("SIGKILL");
        child = undefined;
    });

    test("Ctrl+C keeps the answers already printed and exits 130", async () => {
        const running = spawn(process.execPath, [cliPath, "complete", "-m", tinyModel(), ...greedy, "-n", "8", "--lines"], {
            cwd: repoRoot, env: {...process.env, MIXTRAL_THREADS: "1"}, stdio: ["pipe", "pipe", "pipe"]
        });
        child = running;
        let stdout = "";
        const exited = new Promise<number | null>((resolve) => running.on("close", resolve));
        // Two prompts, and stdin stays open: the third line never comes.
        running.stdin.write("one\ntwo\n");
        await new Promise<void>((resolve) => running.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk.toString();
            if (stdout.split("\n").length > 2) resolve();
        }));
        running.kill("SIGINT");
        expect(await exited).toBe(130);
        expect(stdout.split("\n")).toHaveLength(3);
    });

    test("empty stdin is a usage error before the model loads", async () => {
        const result = await runCli(["complete", "-m", noModel, "--lines"], {input: "\n\n"});
        expect(result.code).toBe(2);
        expect(result.stderr).toContain("Nothing to complete: stdin had no lines.");
    });
});
