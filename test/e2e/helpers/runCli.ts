import {spawn} from "node:child_process";
import path from "node:path";
import {fileURLToPath} from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const cliPath = path.join(repoRoot, "bin", "mixtral.js");
export const testModelsDir = path.join(repoRoot, "test", ".models");
export const tinyModel = (name = "tiny-q8_0.gguf") => path.join(testModelsDir, name);

export type CliResult = {code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string};

export type RunOptions = {
    /** Written to stdin, then stdin is closed; without it stdin is an empty closed pipe. */
    input?: string,
    env?: Record<string, string | undefined>,
    timeoutMs?: number,
    /** Called with the child once spawned (to send signals mid-run). */
    onSpawn?: (child: ReturnType<typeof spawn>) => void
};

/** Spawns the built `mixtral` binary, as a user's shell would, with pipes for stdio. */
export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [cliPath, ...args], {
            cwd: repoRoot,
            // One ggml thread per engine: vitest runs two test files at once on two cores.
            env: {...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, MIXTRAL_THREADS: "1", ...options.env},
            stdio: ["pipe", "pipe", "pipe"]
        });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => { stdout += chunk; });
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
        child.on("error", reject);
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({code, signal, stdout, stderr});
        });
        child.stdin.on("error", () => {});
        child.stdin.end(options.input ?? "");
        options.onSpawn?.(child);
    });
}
