import {describe, expect, it} from "vitest";
import {usableCpuCores} from "../../src/hardware/cpuCores.js";
import {runCli, tinyModel, type CliResult} from "./helpers/runCli.js";

const cores = usableCpuCores();
const interrupted = (result: CliResult) => result.code === 130 || result.signal === "SIGINT";
const warnings = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith("warning: --threads"));

describe("--threads above the usable cores", () => {
    it("complete warns once on stderr with the usable core count, and runs", async () => {
        const result = await runCli(["complete", "-m", tinyModel(), "-t", String(cores + 1), "-n", "1", "--temperature", "0", "hello"]);
        expect(result.code, result.stderr).toBe(0);
        expect(warnings(result.stderr)).toEqual([expect.stringContaining(`--threads ${cores + 1} is more than the ${cores} usable CPU core`)]);
    });

    it("bench warns once for the largest of its thread counts", async () => {
        const result = await runCli(["bench", "-m", "/nonexistent/model.gguf", "-t", `1,${cores + 3}`, "-p", "8", "-n", "0", "-r", "1"]);
        expect(warnings(result.stderr)).toEqual([expect.stringContaining(`--threads ${cores + 3} is more than the ${cores} usable`)]);
    });

    it("says nothing at or below the usable cores", async () => {
        const result = await runCli(["complete", "-m", tinyModel(), "-t", "1", "-n", "1", "hello"]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).not.toContain("warning:");
    });

    it("Ctrl+C during a decode slowed by far too many threads ends the process promptly", async () => {
        let signalledAt = 0;
        const result = await runCli(["complete", "-m", tinyModel(), "-t", "512", "-n", "1000", "hello"], {
            timeoutMs: 180_000,
            onSpawn: (child) => {
                // Loading the tiny model takes about a second; by then a (slow) decode is running.
                setTimeout(() => {
                    signalledAt = Date.now();
                    child.kill("SIGINT");
                }, 5000);
            }
        });
        const secondsToExit = (Date.now() - signalledAt) / 1000;
        expect(interrupted(result), result.stderr).toBe(true);
        // A token takes minutes here; the stop is bounded by a 2 s grace (generous margin for a loaded machine).
        expect(secondsToExit).toBeLessThan(30);
        expect(result.stderr).not.toMatch(/\n\s+at /);
    }, 200_000);
});
