import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {runCli, tinyModel} from "./helpers/runCli.js";
import {startServe, stopAllServers, type ServeProcess} from "./helpers/serveProcess.js";

// `complete --lines` goes through the generator's completeEach: the engine here, or a server with n
// requests at a time. Both must give each line the answer `complete` gives it alone.
describe("complete --lines through a server", () => {
    const greedy = ["--temperature", "0", "-n", "10"];
    const prompts = ["The capital of France", "Once upon a time", "", "A list of colours:", "def add(a, b):"];
    let server: ServeProcess;
    beforeAll(async () => {
        server = await startServe(["--parallel", "2"]);
    });
    afterAll(stopAllServers);

    test("answers every line in order, as the engine here does, with --parallel requests at a time", async () => {
        const input = prompts.join("\n") + "\n";
        const [local, remote] = await Promise.all([
            runCli(["complete", "-m", tinyModel(), ...greedy, "--lines", "--json", "--no-server"], {input}),
            runCli(["complete", "--endpoint", server.baseUrl, ...greedy, "--lines", "--json", "--parallel", "2", "--verbose"], {input})
        ]);
        expect(local.stderr).not.toMatch(/Error|error:/);
        expect(local.code).toBe(0);
        expect(remote.code, remote.stderr).toBe(0);
        type Line = {line: number, prompt: string, text: string, stopReason: string, tokens: {generated: number}};
        const parse = (stdout: string) => stdout.trim().split("\n").map((line) => JSON.parse(line) as Line);
        const ours = parse(local.stdout);
        const theirs = parse(remote.stdout);
        expect(theirs.map((line) => line.line)).toEqual([1, 2, 4, 5]);
        expect(theirs.map((line) => line.prompt)).toEqual(ours.map((line) => line.prompt));
        expect(theirs.map((line) => line.text)).toEqual(ours.map((line) => line.text));
        expect(theirs.map((line) => line.tokens.generated)).toEqual(ours.map((line) => line.tokens.generated));
        // The server's scheduler saw the requests (not the engine of this process), 2 at a time at most.
        expect(remote.stderr).toMatch(/4 prompts in .* \(http:\/\/127\.0\.0\.1:\d+\/v1, 2 at a time\)/);
        expect(remote.stderr).toMatch(/note: 1 empty line was skipped/);
    });

    test("a server that is not there fails in one sentence, before any line is answered", async () => {
        const result = await runCli(["complete", "--endpoint", "http://127.0.0.1:9/v1", "--lines"], {input: "hello\n"});
        expect(result.code).not.toBe(0);
        expect(result.stdout).toBe("");
        expect(result.stderr.trim().split("\n")[0]).toMatch(/^error: /);
        expect(result.stderr).not.toMatch(/\n\s+at /);
    });
});
