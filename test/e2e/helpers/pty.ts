import {spawn, spawnSync} from "node:child_process";
import {getCurrentTest} from "vitest/suite";
import {cliPath, repoRoot} from "./runCli.js";

/**
 * Why no pseudo-terminal can be had here, or undefined: util-linux `script` is Linux's (macOS's BSD
 * `script` takes other flags; Windows has none). Tests that need one are skipped with this reason.
 */
export const ptyMissing: string | undefined = process.platform !== "linux"
    ? `needs util-linux \`script\` for a pseudo-terminal, which ${process.platform} does not have`
    : spawnSync("script", ["--version"], {stdio: "ignore"}).status !== 0 ? "needs util-linux `script` (Debian's bsdutils) for a pseudo-terminal" : undefined;

/**
 * Runs the built `mixtral` binary in a real pseudo-terminal through util-linux `script` (Debian's
 * bsdutils, in every base image; native pty packages do not build here because npm skips install
 * scripts). Keystrokes go in through script's stdin; what the terminal shows comes back, stdout and
 * stderr mixed as a user sees them.
 */
export type PtyRun = {
    /** Sends keystrokes: "\r" is Enter, "\x03" Ctrl+C, "\x04" Ctrl+D. */
    write(keys: string): void,
    /** Waits until the screen shows `pattern` after the previous match; returns the text up to it. */
    expect(pattern: RegExp | string, timeoutMs?: number): Promise<string>,
    /** Everything shown so far, without colour and cursor codes. */
    screen(): string,
    /** Everything shown so far as the terminal received it, escape codes included. */
    raw(): string,
    /** Resolves with the exit code once the program ends (128 + n when killed by signal n). */
    exit(timeoutMs?: number): Promise<number | null>
};

const ansiPattern = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[()][0-9A-Za-z]|\u001b[=>78]/g;

export function stripAnsi(text: string): string {
    return text.replace(ansiPattern, "").replace(/\r/g, "");
}

function shellQuote(value: string): string {
    return `'${value.replace(/'/g, "'\\''")}'`;
}

export function runInPty(args: string[], {env = {}, cols = 120, rows = 40}: {env?: Record<string, string | undefined>, cols?: number, rows?: number} = {}): PtyRun {
    if (ptyMissing != null) {
        // Skipped, with the reason in the report, rather than failed: the test is about our program, not this system.
        getCurrentTest()?.context.skip(ptyMissing);
        throw new Error(`skipped: ${ptyMissing}`);
    }
    const command = `stty cols ${cols} rows ${rows}; exec ${[process.execPath, cliPath, ...args].map(shellQuote).join(" ")}`;
    const child = spawn("script", ["--quiet", "--return", "--flush", "--command", command, "/dev/null"], {
        cwd: repoRoot,
        env: {...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, CI: undefined, TERM: "xterm-256color", ...env},
        stdio: ["pipe", "pipe", "pipe"]
    });
    let raw = "";
    let cursor = 0;
    const waiters = new Set<() => void>();
    const onData = (chunk: Buffer) => {
        raw += chunk.toString("utf8");
        for (const waiter of waiters) waiter();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.stdin.on("error", () => {});
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => {
        for (const waiter of waiters) waiter();
        resolve(code);
    }));
    let done = false;
    void exited.then(() => { done = true; });

    return {
        write(keys) {
            child.stdin.write(keys);
        },
        screen: () => stripAnsi(raw),
        raw: () => raw,
        expect(pattern, timeoutMs = 30_000) {
            return new Promise((resolve, reject) => {
                const check = () => {
                    const text = stripAnsi(raw).slice(cursor);
                    const match = typeof pattern === "string"
                        ? (text.includes(pattern) ? {index: text.indexOf(pattern), length: pattern.length} : undefined)
                        : (() => {
                            const found = pattern.exec(text);
                            return found == null ? undefined : {index: found.index, length: found[0].length};
                        })();
                    if (match != null) {
                        finish();
                        cursor += match.index + match.length;
                        resolve(text.slice(0, match.index + match.length));
                    } else if (done) {
                        finish();
                        reject(new Error(`the program ended before showing ${String(pattern)}; the screen after the last match:\n${text}`));
                    }
                };
                const timer = setTimeout(() => {
                    finish();
                    reject(new Error(`timed out waiting for ${String(pattern)}; the screen after the last match:\n${stripAnsi(raw).slice(cursor)}`));
                }, timeoutMs);
                const finish = () => {
                    clearTimeout(timer);
                    waiters.delete(check);
                };
                waiters.add(check);
                check();
            });
        },
        async exit(timeoutMs = 30_000) {
            const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
            try {
                return await exited;
            } finally {
                clearTimeout(timer);
            }
        }
    };
}

/**
 * Sends each message to a chat REPL and presses Ctrl+C once some of its answer is on the screen,
 * waiting for "(stopped)" and the next prompt each time.
 */
export async function stopEachAnswer(chat: PtyRun, messages: readonly string[], prompt = "> ") {
    for (const message of messages) {
        chat.write(message + "\r");
        await chat.expect(message + "\n");
        await chat.expect(/\S/);
        chat.write("\u0003");
        await chat.expect("(stopped)");
        await chat.expect(prompt);
    }
}
