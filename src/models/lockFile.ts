import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {setTimeout as sleep} from "node:timers/promises";
import {couldBeSameProcess, identityOf, ownIdentity, realIdentityProbe, type IdentityProbe, type ProcessIdentity} from "../processIdentity.js";

/**
 * Who holds a lock, and how to tell it from an unrelated process that got the same PID later
 * (processIdentity.ts: /proc's start time and boot id on Linux, a wall-clock start elsewhere).
 */
export type LockHolder = {pid: number, host: string} & ProcessIdentity;
export type Lock = {release(): Promise<void>};

/**
 * An exclusive lock between processes: a file created with O_EXCL holding the owner's pid. A lock
 * whose owner died (killed, crashed) is taken over, so a `kill -9` never blocks the next pull.
 * Waits while another live process holds it; `onWait` is told once who that is.
 */
export async function acquireLock(lockPath: string, options: {signal?: AbortSignal, onWait?: (holder: LockHolder) => void, pollMs?: number, identity?: IdentityProbe} = {}): Promise<Lock> {
    await fs.mkdir(path.dirname(lockPath), {recursive: true});
    const probe = options.identity ?? realIdentityProbe;
    const me: LockHolder = {pid: process.pid, host: os.hostname(), ...ownIdentity(probe)};
    // Off Linux reading a process's start runs ps or PowerShell: once per holder, not every poll.
    const sameProcess = new Map<string, boolean>();
    const isAlive = (holder: LockHolder) => {
        // A lock from another machine (a shared folder) cannot be checked: trust it.
        if (holder.host !== os.hostname()) return true;
        if (!pidInUse(holder.pid)) return false;
        // The PID is in use, but maybe by another process: compare what the lock recorded with it.
        const key = JSON.stringify(holder);
        let same = sameProcess.get(key);
        if (same == null) sameProcess.set(key, same = couldBeSameProcess(holder, identityOf(holder.pid, probe)));
        return same;
    };
    let told = false;
    for (;;) {
        options.signal?.throwIfAborted();
        try {
            await fs.writeFile(lockPath, JSON.stringify(me), {flag: "wx"});
            return {release: () => fs.rm(lockPath, {force: true})};
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        }
        const holder = await readHolder(lockPath);
        if (holder == null && await unreadableForLong(lockPath)) {
            // Its owner died between creating the file and writing its pid: nobody holds it.
            await fs.rm(lockPath, {force: true});
            continue;
        }
        if (holder != null && !isAlive(holder)) {
            // The owner is gone: remove its lock only if it is still the same file we judged stale.
            const again = await readHolder(lockPath);
            if (again?.pid === holder.pid) await fs.rm(lockPath, {force: true});
            continue;
        }
        if (!told && holder != null) {
            told = true;
            options.onWait?.(holder);
        }
        await sleep(options.pollMs ?? 200, undefined, {signal: options.signal});
    }
}

async function readHolder(lockPath: string): Promise<LockHolder | undefined> {
    try {
        const parsed = JSON.parse(await fs.readFile(lockPath, "utf8")) as Partial<LockHolder>;
        if (typeof parsed.pid === "number" && typeof parsed.host === "string")
            return {
                pid: parsed.pid,
                host: parsed.host,
                ...(typeof parsed.startTime === "string" ? {startTime: parsed.startTime} : {}),
                ...(typeof parsed.bootId === "string" ? {bootId: parsed.bootId} : {}),
                ...(typeof parsed.startedAt === "number" ? {startedAt: parsed.startedAt} : {})
            };
    } catch {
        // Being written right now, or removed: the next poll sees it settled.
    }
    return undefined;
}

/** A lock is written within a millisecond of its creation; one still unreadable after this long never will be. */
const unreadableStaleMs = 10_000;

async function unreadableForLong(lockPath: string): Promise<boolean> {
    try {
        return Date.now() - (await fs.stat(lockPath)).mtimeMs > unreadableStaleMs;
    } catch {
        return false;
    }
}

/** Some process runs with this PID (EPERM: one of another user). */
function pidInUse(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}
