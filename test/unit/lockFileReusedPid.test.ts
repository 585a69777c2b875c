import {spawn, type ChildProcess} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterEach, beforeEach, describe, expect, test} from "vitest";
import {acquireLock} from "../../src/models/lockFile.js";

const linux = fs.existsSync("/proc/self/stat");
let dir: string;
let sleeper: ChildProcess | undefined;
beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-lock-"));
});
afterEach(() => {
    sleeper?.kill("SIGKILL");
    sleeper = undefined;
    fs.rmSync(dir, {recursive: true, force: true});
});

function startTimeOf(pid: number): string {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

/** Tries to take the lock for `ms`; true when it was taken. */
async function takenWithin(lockPath: string, ms: number): Promise<boolean> {
    try {
        const lock = await acquireLock(lockPath, {signal: AbortSignal.timeout(ms), pollMs: 20});
        await lock.release();
        return true;
    } catch {
        return false;
    }
}

describe.runIf(linux)("a lock whose PID is alive but belongs to another process", () => {
    test("a lock left by a process whose PID was reused (another start time) is taken over", async () => {
        // PID 1 is alive in every container: a lock from an earlier PID 1 must not block forever.
        sleeper = spawn("sleep", ["60"]);
        const lockPath = path.join(dir, "x.lock");
        fs.writeFileSync(lockPath, JSON.stringify({pid: sleeper.pid, host: os.hostname(), startTime: "1", bootId: fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()}));
        expect(await takenWithin(lockPath, 3000)).toBe(true);
    });

    test("a lock from before a reboot (another boot id) is taken over", async () => {
        sleeper = spawn("sleep", ["60"]);
        const lockPath = path.join(dir, "x.lock");
        fs.writeFileSync(lockPath, JSON.stringify({pid: sleeper.pid, host: os.hostname(), startTime: startTimeOf(sleeper.pid!), bootId: "00000000-0000-0000-0000-000000000000"}));
        expect(await takenWithin(lockPath, 3000)).toBe(true);
    });

    test("a lock held by the very process it names is respected", async () => {
        sleeper = spawn("sleep", ["60"]);
        const lockPath = path.join(dir, "x.lock");
        fs.writeFileSync(lockPath, JSON.stringify({pid: sleeper.pid, host: os.hostname(), startTime: startTimeOf(sleeper.pid!), bootId: fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()}));
        expect(await takenWithin(lockPath, 500)).toBe(false);
    });

    test("a lock we write records our start time and boot id", async () => {
        const lockPath = path.join(dir, "x.lock");
        const lock = await acquireLock(lockPath);
        const written = JSON.parse(fs.readFileSync(lockPath, "utf8"));
        await lock.release();
        expect(written).toMatchObject({pid: process.pid, startTime: startTimeOf(process.pid)});
        expect(written.bootId).toMatch(/^[0-9a-f-]{36}$/);
    });
});
