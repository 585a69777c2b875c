import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {readPreviousRun} from "../../src/bench/compareRuns.js";
import type {BenchRow} from "../../src/bench/types.js";
import {runCli, tinyModel} from "./helpers/runCli.js";

/** Ctrl+C during `bench -o json` keeps valid JSON with the rows that finished, for --compare. */
describe("mixtral bench -o json stopped by Ctrl+C", () => {
    let dir: string;
    beforeAll(async () => {
        dir = await fs.mkdtemp(path.join(os.tmpdir(), "mixtral-bench-int-"));
    });
    afterAll(async () => {
        await fs.rm(dir, {recursive: true, force: true});
    });

    for (const presses of [1, 2]) {
        it(`closes the JSON array with the finished rows (${presses} Ctrl+C)`, async () => {
            // The first test (pp16) ends quickly; the second (a long tg) is still running at Ctrl+C.
            const result = await runCli(["bench", "-m", tinyModel(), "-p", "16", "-n", "100000", "-r", "1", "-t", "1", "--no-warmup", "--bandwidth", "10", "-o", "json"], {
                timeoutMs: 120_000,
                onSpawn: (child) => {
                    let stdout = "";
                    child.stdout?.on("data", (chunk: Buffer) => {
                        const before = stdout;
                        stdout += chunk.toString("utf8");
                        // The first row is complete once its closing brace arrived.
                        if (!/\n {2}\}/.test(before) && /\n {2}\}/.test(stdout)) {
                            setTimeout(() => {
                                for (let press = 0; press < presses; press++) child.kill("SIGINT");
                            }, 300);
                        }
                    });
                }
            });
            // The second press ends the process at once, dying of SIGINT (a shell's $? is 130 either way).
            expect(result.code === 130 || result.signal === "SIGINT", result.stderr).toBe(true);
            const rows = JSON.parse(result.stdout) as BenchRow[];
            expect(rows.map((row) => row.n_prompt)).toEqual([16]);
            const file = path.join(dir, `run${presses}.json`);
            await fs.writeFile(file, result.stdout);
            expect(await readPreviousRun(file)).toHaveLength(1);
            expect(result.stderr).not.toMatch(/\n\s+at /);
        });
    }
});
