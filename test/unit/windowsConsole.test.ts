import {spawn} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, describe, expect, test} from "vitest";
import {endBySignal, signalExitCode, type EndingCalls, type EndingSignal} from "../../src/cli/platformSignals.js";
import {cliPath} from "../e2e/helpers/runCli.js";

// Ending on a signal: POSIX dies of it (a shell shows 128 + n); Windows cannot, so the code is set.

class Exited extends Error {
    constructor(readonly code: number) {
        super(`exit ${code}`);
    }
}

function recordingCalls(platform: NodeJS.Platform): EndingCalls & {killed: string[]} {
    const killed: string[] = [];
    return {
        platform,
        killed,
        kill: (_pid, signal) => {
            // As Windows's uv_kill answers a signal it does not know (a console closing: SIGHUP).
            if (platform === "win32" && signal === "SIGHUP") throw Object.assign(new Error("kill ENOSYS"), {code: "ENOSYS"});
            killed.push(signal);
        },
        exit: (code) => {
            throw new Exited(code);
        }
    };
}

const codes: [EndingSignal, number][] = [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129], ["SIGBREAK", 149]];

describe.each(codes)("%s", (signal, code) => {
    test(`on Windows exits ${code} without sending itself the signal (which would exit 1, or throw for SIGHUP)`, () => {
        const calls = recordingCalls("win32");
        expect(() => endBySignal(signal, calls)).toThrow(new Exited(code));
        expect(calls.killed).toEqual([]);
    });

    test("on Linux and macOS dies of the signal itself, so a decode in the thread pool does not hold the exit", () => {
        if (signal === "SIGBREAK") return expect(signalExitCode(signal)).toBe(149);
        for (const platform of ["linux", "darwin"] as const) {
            const calls = recordingCalls(platform);
            expect(() => endBySignal(signal, calls)).toThrow(new Exited(code));
            expect(calls.killed).toEqual([signal]);
        }
    });
});

describe("bin/mixtral.js as started on Windows", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-win-signal-"));
    afterAll(() => fs.rmSync(dir, {recursive: true, force: true}));

    /** Runs the shim with process.platform reading "win32", and the signal raised as soon as its handlers are in. */
    function runAsWindows(signal: string): Promise<{code: number | null, signal: NodeJS.Signals | null}> {
        const preload = path.join(dir, "asWindows.cjs");
        fs.writeFileSync(preload, `Object.defineProperty(process, "platform", {value: "win32"});\nsetImmediate(() => process.emit(${JSON.stringify(signal)}, ${JSON.stringify(signal)}));\n`);
        const child = spawn(process.execPath, ["--require", preload, cliPath, "doctor"], {stdio: "ignore", env: {...process.env, NO_COLOR: "1"}});
        return new Promise((resolve) => child.on("exit", (code, killedBy) => resolve({code, signal: killedBy})));
    }

    test.each([["SIGTERM", 143], ["SIGHUP", 129], ["SIGINT", 130], ["SIGBREAK", 149]] as const)("%s before anything loads exits %i", async (signal, code) => {
        expect(await runAsWindows(signal)).toEqual({code, signal: null});
    });
});

test("Git Bash (mintty, no console) gets a note instead of a chat that looks hung", async () => {
    const {minttyNote} = await import("../../src/cli/ui/terminal.js");
    expect(minttyNote(false, {MSYSTEM: "MINGW64"}, "win32")).toMatch(/winpty mixtral chat/);
    expect(minttyNote(true, {MSYSTEM: "MINGW64"}, "win32")).toBeUndefined();
    expect(minttyNote(false, {MSYSTEM: "MINGW64"}, "linux")).toBeUndefined();
});

test("Windows wording: no chmod, and a refused port is a reserved one, not a privileged one", async () => {
    const {fileAccessHint, portRefusedHint} = await import("../../src/platformHints.js");
    expect(fileAccessHint("C:\\m.gguf", "file", "win32")).toMatch(/Properties → Security/);
    expect(fileAccessHint("/m.gguf", "file", "linux")).toMatch(/chmod u\+r/);
    expect(portRefusedHint("win32").hint).toMatch(/excludedportrange/);
    expect(portRefusedHint("linux").hint).toMatch(/above 1023/);
});

test("chat on Windows: a line ending in a folder's path (C:\\models\\) is sent, not continued", async () => {
    const {MultilineInput} = await import("../../src/cli/chat/multilineInput.js");
    expect(new MultilineInput("win32").push("summarise the files in C:\\Users\\ada\\models\\")).toBe("summarise the files in C:\\Users\\ada\\models\\");
    expect(new MultilineInput("win32").push("and \\\\nas\\share\\")).toBe("and \\\\nas\\share\\");
    // A backslash after a space still continues, on Windows as elsewhere; and on Linux a path's does too.
    expect(new MultilineInput("win32").push("first line \\")).toBeUndefined();
    expect(new MultilineInput("linux").push("C:\\models\\")).toBeUndefined();
});
