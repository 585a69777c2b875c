import fs from "node:fs/promises";
import path from "node:path";
import {DownloadError} from "../errors.js";
import {formatBytes} from "./formatBytes.js";

/** Room kept free beyond the file itself: the OS and the rest of the system need some. */
export const diskMarginBytes = 512 * 1024 * 1024;

/**
 * Free bytes for unprivileged users on the file system holding `dir` (or its closest existing parent).
 * MIXTRAL_FREE_BYTES stands in for the measurement (tests: a full disk without filling one).
 */
export async function freeBytes(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    const override = env.MIXTRAL_FREE_BYTES;
    if (override != null && override !== "" && Number.isFinite(Number(override))) return Number(override);
    let folder = path.resolve(dir);
    for (;;) {
        try {
            const stat = await fs.statfs(folder);
            return stat.bavail * stat.bsize;
        } catch (error) {
            const parent = path.dirname(folder);
            if ((error as NodeJS.ErrnoException).code !== "ENOENT" || parent === folder) throw error;
            folder = parent;
        }
    }
}

/**
 * Fails before the first byte when the rest of the file cannot fit: finding out at 90% of 26 GB,
 * with a full disk, is the outcome to avoid.
 */
export async function assertFreeSpace(dir: string, bytesNeeded: number, env: NodeJS.ProcessEnv = process.env) {
    const free = await freeBytes(dir, env);
    const required = bytesNeeded + diskMarginBytes;
    if (free >= required) return;
    throw new DownloadError(`Not enough disk space in ${dir}: the download needs ${formatBytes(required)} ` +
        `(${formatBytes(bytesNeeded)} plus ${formatBytes(diskMarginBytes)} to spare) and ${formatBytes(free)} is free.`, {
        hint: "Free some space, or set MIXTRAL_MODELS to a folder on a larger disk."
    });
}
