import {execFileSync, spawnSync} from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {BenchRow} from "../../src/bench/types.js";
import {repoRoot, runCli, tinyModel} from "./helpers/runCli.js";

/**
 * The compatibility test the issue asks for: llama.cpp's own scripts/compare-llama-bench.py, taken
 * from the source node-llama-cpp ships, reads our JSON as if llama-bench had written it.
 */
const bundle = path.join(repoRoot, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
const fixture = path.join(repoRoot, "test", "fixtures", "bench", "llama-bench.json");

/** A python with GitPython and tabulate, which compare-llama-bench.py imports; npm test installs nothing. */
function pythonWithDependencies(): string | undefined {
    for (const python of ["/usr/bin/python3", "python3", "python"])
        if (spawnSync(python, ["-c", "import git, tabulate"]).status === 0) return python;
    return undefined;
}

const foundPython = pythonWithDependencies();
if (foundPython == null)
    console.warn("skipping the compare-llama-bench.py tests: they need python3 with GitPython and tabulate " +
        "(`node dist/scripts/ensureCompareLlamaBenchDeps.js` installs Debian's python3-git and python3-tabulate, or says what to run; .ci/run does)");

describe.skipIf(foundPython == null)("llama.cpp's compare-llama-bench.py reads mixtral bench JSON", () => {
    let dir: string;
    let script: string;
    let python: string;
    const runOurs = async (file: string, ...extra: string[]) => {
        const result = await runCli(["bench", "-m", tinyModel(), "-p", "16", "-n", "8", "-r", "2", "-t", "1", "-o", "json", ...extra]);
        expect(result.code).toBe(0);
        await fs.writeFile(path.join(dir, file), result.stdout);
        return JSON.parse(result.stdout) as BenchRow[];
    };
    // --tool is required: the script guesses the tool only for SQLite input, and asserts otherwise.
    const compare = (...args: string[]) => spawnSync(python, [script, "--tool", "llama-bench", ...args], {cwd: dir, encoding: "utf8"});

    beforeAll(async () => {
        python = foundPython!;
        dir = await fs.mkdtemp(path.join(os.tmpdir(), "mixtral-compare-"));
        // The bundle is llama.cpp's source as node-llama-cpp 3.21.1 built it; a bare clone is enough to read one file.
        execFileSync("git", ["clone", "-q", "--bare", bundle, path.join(dir, "llama.git")]);
        script = path.join(dir, "compare-llama-bench.py");
        await fs.writeFile(script, execFileSync("git", ["--git-dir", path.join(dir, "llama.git"), "show", "HEAD:scripts/compare-llama-bench.py"]));
    }, 120_000);
    afterAll(async () => {
        if (dir != null) await fs.rm(dir, {recursive: true, force: true});
    });

    it("compares two of our runs and prints its table", async () => {
        const [ours] = await runOurs("a.json");
        await runOurs("b.json");
        const build = ours!.build_commit;
        const result = compare("-i", "a.json", "-i", "b.json", "-b", build, "-c", build);
        expect(result.stderr).not.toMatch(/Traceback|Missing required/);
        expect(result.status).toBe(0);
        expect(result.stdout).toMatch(/\| Model +\| Test +\| +t\/s \S+ \| +t\/s \S+ \| +Speedup \|/);
        expect(result.stdout).toMatch(/\| llama \?B Q8_0 .*\| pp16 +\|/);
        expect(result.stdout).toMatch(/\| llama \?B Q8_0 .*\| tg8 +\|/);
    });

    it("compares our run with a llama-bench run of the same file and shows the speedup", async () => {
        // The fixture ran with flash attention off (-fa 0); the script joins only rows of equal settings.
        const [ours] = await runOurs("ours.json", "-fa", "0");
        // The fixture is llama-bench's JSON format; it joins ours on the machine it ran on.
        const llamaBench = JSON.parse(await fs.readFile(fixture, "utf8")) as Record<string, unknown>[];
        for (const row of llamaBench)
            for (const key of ["cpu_info", "gpu_info", "backends", "model_filename", "model_type", "n_threads"] as const)
                row[key] = ours![key];
        await fs.writeFile(path.join(dir, "llama-bench.json"), JSON.stringify(llamaBench, null, 2));
        const result = compare("-i", "llama-bench.json", "-i", "ours.json", "-b", "80fb11a", "-c", ours!.build_commit);
        expect(result.stderr).not.toMatch(/Traceback/);
        expect(result.status).toBe(0);
        const pp = result.stdout.split("\n").find((line) => /\| pp16 +\|/.test(line));
        expect(pp).toMatch(/\| +40100\.25 \| +\d+\.\d\d \| +\d+\.\d\d \|$/);
        expect(result.stdout).toMatch(/\| tg8 +\| +4006\.27 \|/);
    });
});
