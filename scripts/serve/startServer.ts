import {spawn, type ChildProcess} from "node:child_process";
import {createServer} from "node:net";

export type RunningServer = {baseUrl: string, child: ChildProcess, stop(): Promise<void>};

function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const probe = createServer().listen(0, "127.0.0.1", () => {
            const {port} = probe.address() as {port: number};
            probe.close(() => resolve(port));
        });
    });
}

/** Starts a server command on a free loopback port (`{port}` in args) and waits until /health says 200. */
export async function startServer(command: string, args: string[], options: {env?: NodeJS.ProcessEnv, label: string, timeoutMs?: number}): Promise<RunningServer> {
    const port = await freePort();
    const child = spawn(command, args.map((arg) => arg.replace("{port}", String(port))), {
        stdio: ["ignore", "ignore", "pipe"],
        env: options.env ?? process.env
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
        stderr = (stderr + chunk).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
    const origin = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    while (true) {
        // A server killed by a signal (SIGILL from a -march=native build on another CPU) has no exit code.
        if (child.exitCode != null || child.signalCode != null)
            throw new Error(`${options.label} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${stderr}`);
        const status = await fetch(`${origin}/health`).then((response) => response.status, () => 0);
        if (status === 200) break;
        if (Date.now() > deadline) {
            child.kill("SIGKILL");
            throw new Error(`${options.label} was not ready in time:\n${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return {
        baseUrl: `${origin}/v1`,
        child,
        async stop() {
            if (child.exitCode == null) child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
            await exited;
            clearTimeout(timer);
        }
    };
}
