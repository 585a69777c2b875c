import fsSync from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {setTimeout as sleep} from "node:timers/promises";

/**
 * Who holds a lock. The start time (clock ticks since boot, /proc/<pid>/stat field 22) and boot id
 * tell a live holder from an unrelated process that got the same PID later (PID 1 in every
 * container, recycled PIDs, a reboot); they are absent where /proc is not.
 */
export type LockHolder = {pid: number, host: string, startTime?: string, bootId?: string};
export type Lock = {release(): Promise<void>};

/**
 * An exclusive lock between processes: a file created with O_EXCL holding the owner's pid. A lock
 * whose owner died (killed, crashed) is taken over, so a `kill -9` never blocks the next pull.
 * Waits while another live process holds it; `onWait` is told once who that is.
 */
export async function acquireLock(lockPath: string, options: {signal?: AbortSignal, onWait?: (holder: LockHolder) => void, pollMs?: number} = {}): Promise<Lock> {
    await fs.mkdir(path.dirname(lockPath), {recursive: true});
    const me: LockHolder = {pid: process.pid, host: os.hostname(), ...processIdentity(process.pid)};
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
                ...(typeof parsed.bootId === "string" ? {bootId: parsed.bootId} : {})
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

function isAlive(holder: LockHolder): boolean {
    // A lock from another machine (shared folder) cannot be checked: trust it.
    if (holder.host !== os.hostname()) return true;
    try {
        process.kill(holder.pid, 0);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
    }
    // The PID is in use, but maybe by another process: compare what the lock recorded with it.
    const now = processIdentity(holder.pid);
    if (holder.bootId != null && now.bootId != null && holder.bootId !== now.bootId) return false;
    if (holder.startTime != null && now.startTime != null && holder.startTime !== now.startTime) return false;
    return true;
}

/** A process's start time and the boot it belongs to, where /proc tells them (Linux). */
export function processIdentity(pid: number): {startTime?: string, bootId?: string} {
    const identity: {startTime?: string, bootId?: string} = {};
    try {
        const stat = fsSync.readFileSync(`/proc/${pid}/stat`, "utf8");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
        const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
        if (startTime != null && /^\d+$/.test(startTime)) identity.startTime = startTime;
    } catch {
        // No /proc (macOS, Windows) or the process is gone.
    }
    try {
        identity.bootId = fsSync.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
        // Not Linux.
    }
    return identity;
}
