import {spawn, type ChildProcess} from "node:child_process";
import {mkdtempSync, rmSync} from "node:fs";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import {afterAll, beforeAll} from "vitest";
import {cliPath, repoRoot, tinyModel} from "./runCli.js";

export type ServeProcess = {
    child: ChildProcess,
    /** The OpenAI base URL the server printed, e.g. http://127.0.0.1:40123/v1 */
    baseUrl: string,
    /** http://127.0.0.1:40123 */
    origin: string,
    runtimeDir: string,
    stderr(): string,
    /** Resolves with the exit code/signal once the process has ended. */
    exited: Promise<{code: number | null, signal: NodeJS.Signals | null}>,
    stop(): Promise<void>
};

const running = new Set<ServeProcess>();

/**
 * Starts `mixtral serve` on an ephemeral loopback port and waits for the "Serving … at <url>" line.
 * Every server started here is killed by `stopAllServers` (call it in afterEach/afterAll).
 */
export async function startServe(args: string[] = [], {env = {}, model = tinyModel(), timeoutMs = 60_000}: {env?: Record<string, string | undefined>, model?: string, timeoutMs?: number} = {}): Promise<ServeProcess> {
    const runtimeDir = mkdtempSync(path.join(os.tmpdir(), "mixtral-serve-test-"));
    const child = spawn(process.execPath, [cliPath, "serve", "--model", model, "--host", "127.0.0.1", "--port", "0", ...args], {
        cwd: repoRoot,
        env: {...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, MIXTRAL_THREADS: "1", MIXTRAL_API_KEY: undefined, MIXTRAL_RUNTIME_DIR: runtimeDir, ...env},
        stdio: ["ignore", "pipe", "pipe"]
    });
    let stderr = "";
    child.stdout!.resume();
    const exited = new Promise<{code: number | null, signal: NodeJS.Signals | null}>((resolve) =>
        child.on("close", (code, signal) => resolve({code, signal})));
    const baseUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start in time; stderr:\n${stderr}`)), timeoutMs);
        child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
            stderr += chunk;
            const match = / at (http:\/\/\S+\/v1) /.exec(stderr);
            if (match != null) {
                clearTimeout(timer);
                resolve(match[1]!);
            }
        });
        void exited.then(({code}) => {
            clearTimeout(timer);
            reject(new Error(`serve exited with ${code} before it listened; stderr:\n${stderr}`));
        });
    });
    const server: ServeProcess = {
        child, baseUrl, origin: baseUrl.replace(/\/v1$/, ""), runtimeDir, exited,
        stderr: () => stderr,
        async stop() {
            running.delete(server);
            if (child.exitCode == null && child.signalCode == null) child.kill("SIGKILL");
            await exited;
            rmSync(runtimeDir, {recursive: true, force: true});
        }
    };
    running.add(server);
    return server;
}

export async function stopAllServers() {
    await Promise.all([...running].map((server) => server.stop()));
}

/** One metric's value from the server's /metrics text. */
export async function readMetric(origin: string, name: string, headers: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${origin}/metrics`, {headers})).text();
    const line = text.split("\n").find((entry) => entry.startsWith(`${name} `));
    if (line == null) throw new Error(`no metric ${name} in:\n${text}`);
    return Number(line.slice(name.length + 1));
}

/**
 * One `mixtral serve` (with `args`) for the calling test file, started before its tests and stopped
 * after them, with an `openai` client on it (no retries: a refusal is the test's to see).
 */
export function useServedClient(args: string[], options: Parameters<typeof startServe>[1] = {}): {server: ServeProcess, client: OpenAI} {
    const served = {} as {server: ServeProcess, client: OpenAI};
    beforeAll(async () => {
        served.server = await startServe(args, options);
        served.client = new OpenAI({baseURL: served.server.baseUrl, apiKey: "unused", maxRetries: 0});
    });
    afterAll(stopAllServers);
    return served;
}
