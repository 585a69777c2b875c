import {DownloadError} from "../errors.js";
import {formatBytes} from "../formatBytes.js";
import {diskSpace, type ImportantCapacity} from "../hardware/freeDiskBytes.js";

/** Room kept free beyond the file itself: the OS and the rest of the system need some. */
export const diskMarginBytes = 512 * 1024 * 1024;

/**
 * Fails before the first byte when the rest of the file cannot fit: finding out at 90% of 26 GB,
 * with a full disk, is the outcome to avoid. On macOS the room counts APFS's purgeable space
 * (freeDiskBytes.ts), and the message says so when it did.
 */
export async function assertFreeSpace(dir: string, bytesNeeded: number, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform,
    importantCapacity?: ImportantCapacity) {
    const free = await diskSpace(dir, {env, platform, ...(importantCapacity == null ? {} : {importantCapacity})});
    const required = bytesNeeded + diskMarginBytes;
    if (free.bytes >= required) return;
    const counted = free.purgeableBytes > 0;
    throw new DownloadError(`Not enough disk space in ${dir}: the download needs ${formatBytes(required)} ` +
        `(${formatBytes(bytesNeeded)} plus ${formatBytes(diskMarginBytes)} to spare) and ${formatBytes(free.bytes)} is free` +
        (counted ? `, counting ${formatBytes(free.purgeableBytes)} of purgeable space macOS frees on demand.` : "."), {
        hint: "Free some space, or set MIXTRAL_MODELS to a folder on a larger disk." + (platform === "darwin" && !counted
            // statfs counts only space free now; the purgeable figure could not be read (freeDiskBytes.ts),
            // and local Time Machine snapshots are the usual bulk of it.
            ? " macOS frees purgeable space (local snapshots, iCloud copies) only on demand: `tmutil thinlocalsnapshots / 100000000000 4` releases snapshots, then run the same command again."
            : "")
    });
}
