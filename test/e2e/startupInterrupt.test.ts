import {spawn} from "node:child_process";
import {describe, expect, test} from "vitest";
import {cliPath, repoRoot, tinyModel} from "./helpers/runCli.js";

/**
 * Ctrl+C in a terminal reaches the whole foreground process group: mixtral and node-llama-cpp's
 * binding-test child alike. Spawned as a group leader and signalled as a group, the CLI must end
 * with a quiet 130 at every moment of start-up (Node starting, getLlama, the binding test, the load).
 */
function interruptAfter(delayMs: number, args: string[]): Promise<{code: number | null, signal: string | null, stderr: string}> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [cliPath, ...args], {
            cwd: repoRoot,
            detached: true,
            env: {...process.env, NO_COLOR: "1", MIXTRAL_THREADS: "1"},
            // stdin stays open: chat --lines loads the model, then waits for a line, so the process is
            // alive at every delay whatever the machine's speed.
            stdio: ["pipe", "pipe", "pipe"]
        });
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
        child.stdout.resume();
        child.stdin.on("error", () => {});
        const timer = setTimeout(() => {
            try { process.kill(-child.pid!, "SIGINT"); } catch { /* already gone */ }
        }, delayMs);
        const killer = setTimeout(() => {
            try { process.kill(-child.pid!, "SIGKILL"); } catch { /* already gone */ }
        }, 45_000);
        child.on("error", reject);
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            clearTimeout(killer);
            resolve({code, signal, stderr});
        });
    });
}

describe("Ctrl+C at any moment of a model command's start-up exits 130 quietly", () => {
    test.each([50, 200, 500, 800, 1000, 1500])("after %i ms", async (delayMs) => {
        const result = await interruptAfter(delayMs, ["chat", "--lines", "--no-history", "--model", tinyModel()]);
        // Before Node runs any of mixtral's code (the first few tens of ms) the signal's default
        // action ends the process, which a shell shows as the same 130; from then on it is an exit.
        if (result.signal === "SIGINT") expect(result.stderr).toBe("");
        else expect(result.code, result.stderr).toBe(130);
        expect(result.stderr).not.toMatch(/\n\s+at |reinstall|npm ci|node-llama-cpp|Error:/);
        expect(result.stderr.trim().split("\n").filter(Boolean).length).toBeLessThanOrEqual(1);
    });
});
