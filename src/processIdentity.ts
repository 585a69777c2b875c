import {execFileSync} from "node:child_process";
import fsSync from "node:fs";

/**
 * What tells a live lock holder from an unrelated process that got the same PID later (PID 1 in
 * every container, recycled PIDs, a reboot). Linux: the start time in clock ticks since boot
 * (/proc/<pid>/stat field 22) and the boot id, exact and free to read. Elsewhere there is no /proc:
 * the start time as a wall-clock instant, from `ps` (macOS, BSD) or PowerShell (Windows).
 */
export type ProcessIdentity = {startTime?: string, bootId?: string, startedAt?: number};

/** How this module learns about processes: replaceable so a test on Linux can answer as macOS or Windows do. */
export type IdentityProbe = {
    platform: NodeJS.Platform,
    readFile: (file: string) => string | undefined,
    /** Runs a small command and returns its stdout, undefined when it fails or is missing. */
    run: (command: string, args: string[]) => string | undefined,
    now: () => number,
    uptimeSeconds: () => number
};

export const realIdentityProbe: IdentityProbe = {
    platform: process.platform,
    readFile: (file) => {
        try {
            return fsSync.readFileSync(file, "utf8");
        } catch {
            return undefined;
        }
    },
    run: (command, args) => {
        try {
            return execFileSync(command, args, {encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "ignore"], env: {...process.env, LC_ALL: "C"}, windowsHide: true});
        } catch {
            return undefined;
        }
    },
    now: () => Date.now(),
    uptimeSeconds: () => process.uptime()
};

/**
 * A wall-clock start time is known to a second (ps) and ours is estimated from Node's uptime: two
 * readings of one process agree within this. A PID reused so soon after its holder started it would
 * need the holder to die seconds after taking the lock.
 */
const startedAtToleranceMs = 5000;

/** This process, as a lock records it. Off Linux no command is run: the start is now less the uptime. */
export function ownIdentity(probe: IdentityProbe = realIdentityProbe): ProcessIdentity {
    if (probe.platform === "linux") return procIdentity(process.pid, probe);
    return {startedAt: Math.round(probe.now() - probe.uptimeSeconds() * 1000)};
}

/** Another process, as the OS sees it now; empty when it cannot tell. */
export function identityOf(pid: number, probe: IdentityProbe = realIdentityProbe): ProcessIdentity {
    if (probe.platform === "linux") return procIdentity(pid, probe);
    const text = probe.platform === "win32"
        ? probe.run("powershell.exe", ["-NoProfile", "-NonInteractive", "-Command", `(Get-Process -Id ${pid}).StartTime.ToUniversalTime().ToString('o')`])
        : probe.run("ps", ["-o", "lstart=", "-p", String(pid)]);
    const startedAt = text == null ? NaN : Date.parse(text.trim().replace(/\s+/g, " "));
    return Number.isFinite(startedAt) ? {startedAt} : {};
}

/** False when what the lock recorded surely belongs to another process than the one with that PID now. */
export function couldBeSameProcess(recorded: ProcessIdentity, now: ProcessIdentity): boolean {
    if (recorded.bootId != null && now.bootId != null && recorded.bootId !== now.bootId) return false;
    if (recorded.startTime != null && now.startTime != null && recorded.startTime !== now.startTime) return false;
    if (recorded.startedAt != null && now.startedAt != null && Math.abs(recorded.startedAt - now.startedAt) > startedAtToleranceMs) return false;
    return true;
}

function procIdentity(pid: number, probe: IdentityProbe): ProcessIdentity {
    const identity: ProcessIdentity = {};
    const stat = probe.readFile(`/proc/${pid}/stat`);
    if (stat != null) {
        // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
        const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
        if (startTime != null && /^\d+$/.test(startTime)) identity.startTime = startTime;
    }
    const bootId = probe.readFile("/proc/sys/kernel/random/boot_id")?.trim();
    if (bootId != null && bootId !== "") identity.bootId = bootId;
    return identity;
}
