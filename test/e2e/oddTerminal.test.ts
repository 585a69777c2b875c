import {describe, expect, test} from "vitest";
import {runInPty} from "./helpers/pty.js";
import {runCli, tinyModel} from "./helpers/runCli.js";

/**
 * A terminal that reports 0 columns (`script -qc`, `docker exec -t` before its first resize): ora's
 * clear loop never ends there, writing escape codes without pause and starving the event loop, so
 * even SIGTERM's handler never ran.
 */
describe("a terminal of 0 columns", () => {
    test("doctor finishes without animating", async () => {
        const pty = runInPty(["doctor"], {cols: 0});
        const code = await pty.exit(60_000);
        expect(code).toBe(0);
        const screen = pty.screen();
        expect(screen).toMatch(/backend|cpu/i);
        // The whole report is a few KiB; a spinner stuck on a 0-wide line writes megabytes.
        expect(screen.length).toBeLessThan(64 * 1024);
    }, 90_000);

    test("bench finishes without animating", async () => {
        const pty = runInPty(["bench", "-m", tinyModel(), "-p", "16", "-n", "4", "-r", "1", "-t", "1"], {cols: 0});
        const code = await pty.exit(60_000);
        expect(code).toBe(0);
        expect(pty.screen()).toMatch(/pp16/);
        expect(pty.screen().length).toBeLessThan(64 * 1024);
    }, 90_000);
});

describe("SIGTERM and SIGHUP end every command", () => {
    test.each([["SIGTERM", 143], ["SIGHUP", 129]] as const)("%s ends a running bench (shell status %i)", async (signal, exitCode) => {
        const result = await runCli(["bench", "-m", tinyModel(), "-p", "64", "-n", "64", "-r", "1000", "-t", "1"], {
            onSpawn: (child) => setTimeout(() => child.kill(signal), 3000)
        });
        // Ended by the signal itself (what a shell shows as 128 + n), without waiting for a decode.
        expect(result.code === exitCode || result.signal === signal).toBe(true);
        expect(result.stderr).not.toMatch(/\n\s+at /);
    });
});
