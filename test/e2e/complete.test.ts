import {spawn} from "node:child_process";
import fs from "node:fs";
import {describe, expect, test} from "vitest";
import {cliPath, repoRoot, runCli, tinyModel} from "./helpers/runCli.js";

const greedy = ["--temperature", "0", "--repeat-penalty", "1"];
/** Why the shell-pipeline tests cannot run here, or undefined: they need bash (and one /dev/full, which macOS lacks). */
const bashMissing = process.platform === "win32" ? "needs bash for a shell pipeline, which Windows does not have" : undefined;
const devFullMissing = bashMissing ?? (fs.existsSync("/dev/full") ? undefined : `needs /dev/full, which ${process.platform} does not have`);
// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[/;

function completeJson(args: string[], input?: string) {
    return runCli(["complete", "--model", tinyModel(), "--json", ...args], {input}).then((result) => {
        expect(result.code, result.stderr).toBe(0);
        return JSON.parse(result.stdout) as {
            text: string, model: string, backend: string, threads: number, stopReason: string,
            tokens: {prompt: number, generated: number},
            timings: {loadMs: number, promptMs: number, generateMs: number, generatedTokensPerSecond: number}
        };
    });
}

describe("mixtral complete", () => {
    test("streams a continuation of an argument prompt to stdout and nothing else", async () => {
        const result = await runCli(["complete", "--model", tinyModel(), ...greedy, "--max-tokens", "12", "The cat sat on the"]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout.length).toBeGreaterThan(0);
        expect(result.stdout).not.toMatch(ansi);
        expect(result.stdout).not.toContain("\uFFFD");
        // Piped stderr carries no spinner or progress bar.
        expect(result.stderr).toBe("");
    });

    test("a piped prompt gives the same greedy text as the same prompt as an argument", async () => {
        const fromArgument = await runCli(["complete", "--model", tinyModel(), ...greedy, "-n", "10", "Hello world"]);
        // One trailing newline from the shell is not part of the prompt.
        const fromPipe = await runCli(["complete", "--model", tinyModel(), ...greedy, "-n", "10"], {input: "Hello world\n"});
        const fromDash = await runCli(["complete", "--model", tinyModel(), ...greedy, "-n", "10", "-"], {input: "Hello world"});
        expect(fromArgument.code).toBe(0);
        expect(fromPipe.stdout).toBe(fromArgument.stdout);
        expect(fromDash.stdout).toBe(fromArgument.stdout);
    });

    test("sampling is reproducible with --seed and changes with another seed", async () => {
        const args = ["--temperature", "1.5", "--top-k", "0", "--top-p", "1", "--min-p", "0", "-n", "24"];
        const first = await completeJson([...args, "--seed", "7", "Once upon a time"]);
        const again = await completeJson([...args, "--seed", "7", "Once upon a time"]);
        const other = await completeJson([...args, "--seed", "8", "Once upon a time"]);
        expect(again.text).toBe(first.text);
        expect(other.text).not.toBe(first.text);
    });

    test("--json prints one object with the text, token counts and timings", async () => {
        const json = await completeJson([...greedy, "-n", "8", "Hello"]);
        expect(json).toMatchObject({model: tinyModel(), backend: "cpu", stopReason: "maxTokens", tokens: {generated: 8}});
        // BOS plus the prompt's pieces.
        expect(json.tokens.prompt).toBeGreaterThanOrEqual(2);
        expect(json.threads).toBeGreaterThanOrEqual(1);
        for (const key of ["loadMs", "promptMs", "generateMs", "generatedTokensPerSecond"] as const)
            expect(json.timings[key]).toBeGreaterThan(0);
        expect(Object.keys(json).sort()).toEqual(["backend", "model", "stopReason", "text", "threads", "timings", "tokens"]);
    });

    test("--max-tokens bounds the continuation exactly", async () => {
        expect((await completeJson([...greedy, "-n", "3", "Hi"])).tokens.generated).toBe(3);
        const none = await completeJson([...greedy, "-n", "0", "Hi"]);
        expect(none.tokens.generated).toBe(0);
        expect(none.text).toBe("");
    });

    test("--stop ends the text just before the stop string", async () => {
        const full = await completeJson([...greedy, "-n", "30", "The"]);
        // A stop string from the middle of the greedy continuation.
        const stop = full.text.slice(Math.floor(full.text.length / 2), Math.floor(full.text.length / 2) + 3);
        const stopped = await completeJson([...greedy, "-n", "30", "--stop", "zzzzqqq", "--stop", stop, "The"]);
        expect(stopped.stopReason).toBe("stop");
        expect(stopped.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
        expect(stopped.tokens.generated).toBeLessThan(30);
    });

    test("every tensor type of the test model generates", async () => {
        for (const file of ["tiny-f32.gguf", "tiny-f16.gguf", "tiny-q4_0.gguf"]) {
            const result = await runCli(["complete", "--model", tinyModel(file), "--json", ...greedy, "-n", "4", "Hello"]);
            expect(result.code, result.stderr).toBe(0);
            expect(JSON.parse(result.stdout).tokens.generated).toBe(4);
        }
    });

    test("a closed stdout (| head -c 3) ends quietly", async (context) => {
        if (bashMissing != null) context.skip(bashMissing);
        const result = await new Promise<{status: string, stderr: string, stdout: string}>((resolve) => {
            const shell = spawn("bash", ["-c",
                `node "${cliPath}" complete --model "${tinyModel()}" -n 200 --temperature 0 "Hello" 2>err.log | head -c 3; ` +
                `echo "|\${PIPESTATUS[0]}"; cat err.log >&2; rm -f err.log`
            ], {cwd: repoRoot});
            let stdout = "";
            let stderr = "";
            shell.stdout.on("data", (chunk) => { stdout += chunk; });
            shell.stderr.on("data", (chunk) => { stderr += chunk; });
            shell.on("close", () => resolve({status: stdout.split("|").at(-1)!.trim(), stderr, stdout}));
        });
        expect(Buffer.byteLength(result.stdout.split("|")[0]!)).toBe(3);
        expect(result.status).toBe("0");
        expect(result.stderr).toBe("");
    });

    test("an output that cannot be written (a full disk) is one sentence and exit 1", async (context) => {
        if (devFullMissing != null) context.skip(devFullMissing);
        const result = await new Promise<{code: number | null, stderr: string}>((resolve) => {
            const shell = spawn("bash", ["-c", `node "${cliPath}" complete --model "${tinyModel()}" -n 20 --temperature 0 "Hello" > /dev/full`],
                {cwd: repoRoot, env: {...process.env, MIXTRAL_THREADS: "1"}});
            let stderr = "";
            shell.stderr.on("data", (chunk) => { stderr += chunk; });
            shell.on("close", (code) => resolve({code, stderr}));
        });
        expect(result.code).toBe(1);
        expect(result.stderr.trim()).toMatch(/^error: Cannot write the output: ENOSPC/);
        expect(result.stderr).not.toMatch(/\n\s+at /);
    });

    test("Ctrl+C stops generation, keeps what was printed and exits 130", async () => {
        let sent = false;
        const result = await runCli(["complete", "--model", tinyModel(), "-n", "100000", "--temperature", "0", "Hello"], {
            onSpawn(child) {
                child.stdout!.on("data", () => {
                    if (!sent) {
                        sent = true;
                        child.kill("SIGINT");
                    }
                });
            }
        });
        expect(sent).toBe(true);
        expect(result.code).toBe(130);
        expect(result.stdout.length).toBeGreaterThan(0);
        expect(result.stderr).not.toMatch(/\n\s+at /);
    });

    test("NO_COLOR and a pipe keep ANSI codes out of errors too", async () => {
        const result = await runCli(["complete", "--model", "/nonexistent.gguf", "hi"], {env: {NO_COLOR: "1"}});
        expect(result.code).toBe(1);
        expect(result.stderr).not.toMatch(ansi);
    });
});
