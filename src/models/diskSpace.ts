import {DownloadError} from "../errors.js";
import {formatBytes} from "../formatBytes.js";
import {freeBytes} from "../hardware/freeDiskBytes.js";

/** Room kept free beyond the file itself: the OS and the rest of the system need some. */
export const diskMarginBytes = 512 * 1024 * 1024;

/**
 * Fails before the first byte when the rest of the file cannot fit: finding out at 90% of 26 GB,
 * with a full disk, is the outcome to avoid.
 */
export async function assertFreeSpace(dir: string, bytesNeeded: number, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform) {
    const free = await freeBytes(dir, env);
    const required = bytesNeeded + diskMarginBytes;
    if (free >= required) return;
    throw new DownloadError(`Not enough disk space in ${dir}: the download needs ${formatBytes(required)} ` +
        `(${formatBytes(bytesNeeded)} plus ${formatBytes(diskMarginBytes)} to spare) and ${formatBytes(free)} is free.`, {
        hint: "Free some space, or set MIXTRAL_MODELS to a folder on a larger disk." + (platform === "darwin"
            // statfs counts only space free now; Finder's "available" adds what APFS would purge
            // (local Time Machine snapshots, iCloud copies) on demand, which a download cannot ask for.
            ? " macOS frees purgeable space (local snapshots, iCloud copies) only on demand: `tmutil thinlocalsnapshots / 100000000000 4` releases snapshots, then run the same command again."
            : "")
    });
}
