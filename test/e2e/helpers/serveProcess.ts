import {spawn, type ChildProcess} from "node:child_process";
import {mkdtempSync, rmSync} from "node:fs";
import os from "node:os";
import path from "node:path";
import {listServers} from "../../../src/remote/serverRegistry.js";
import {cliPath, repoRoot} from "./runCli.js";

export type ServeProcess = {
    child: ChildProcess,
    /** e.g. http://127.0.0.1:41234/v1 */
    baseUrl: string,
    /** MIXTRAL_RUNTIME_DIR of this server: clients given it find the server. */
    runtimeDir: string,
    stderr(): string,
    stop(): Promise<void>
};

/**
 * Starts the real `mixtral serve` on an ephemeral port of 127.0.0.1 and waits until it has announced
 * itself (it announces once the model is loaded). stop() kills it, so no server outlives its test.
 */
export async function startServe(args: string[], {env = {}, timeoutMs = 90_000}: {env?: Record<string, string | undefined>, timeoutMs?: number} = {}): Promise<ServeProcess> {
    const runtimeDir = mkdtempSync(path.join(os.tmpdir(), "mixtral-run-"));
    const childEnv = {...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, MIXTRAL_THREADS: "1", MIXTRAL_RUNTIME_DIR: runtimeDir, ...env};
    const child = spawn(process.execPath, [cliPath, "serve", "--host", "127.0.0.1", "--port", "0", ...args], {cwd: repoRoot, env: childEnv, stdio: ["ignore", "ignore", "pipe"]});
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
        if (child.exitCode == null && child.signalCode == null) {
            child.kill("SIGKILL");
            await exited;
        }
        rmSync(runtimeDir, {recursive: true, force: true});
    };
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode != null) break;
        const server = (await listServers({MIXTRAL_RUNTIME_DIR: runtimeDir})).find((entry) => entry.pid === child.pid);
        if (server != null) return {child, baseUrl: server.baseUrl, runtimeDir, stderr: () => stderr, stop};
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stop();
    throw new Error(`mixtral serve did not start: ${stderr}`);
}
