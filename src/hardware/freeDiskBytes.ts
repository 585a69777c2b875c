import {execFile} from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";

/** Room a write can use on a disk, and how much of it macOS would first have to purge. */
export type DiskSpace = {
    bytes: number,
    /** Part of `bytes` that APFS frees only on demand (local Time Machine snapshots, iCloud copies, caches); 0 elsewhere or when unknown. */
    purgeableBytes: number
};

/**
 * macOS's room for a write the user asked for, free space plus what the system purges to make room
 * (NSURLVolumeAvailableCapacityForImportantUsageKey, Finder's "available"), in bytes: undefined when
 * it cannot be had. Replaceable for tests.
 */
export type ImportantCapacity = (folder: string) => Promise<number | undefined>;

export type DiskSpaceOptions = {
    env?: NodeJS.ProcessEnv,
    platform?: NodeJS.Platform,
    importantCapacity?: ImportantCapacity
};

/**
 * Free bytes for unprivileged users on the file system holding `dir` (or its closest existing parent).
 * On macOS statfs's bavail leaves out APFS's purgeable space, which macOS releases as a download
 * writes: a Mac whose local snapshots hold 40 GB would be told a 26 GB model does not fit, so there
 * the larger "available for important usage" figure counts, and statfs alone when it cannot be read.
 * MIXTRAL_FREE_BYTES stands in for the measurement (tests: a full disk without filling one).
 */
export async function diskSpace(dir: string, {env = process.env, platform = process.platform, importantCapacity = macImportantCapacity}: DiskSpaceOptions = {}): Promise<DiskSpace> {
    const override = env.MIXTRAL_FREE_BYTES;
    if (override != null && override !== "" && Number.isFinite(Number(override))) return {bytes: Number(override), purgeableBytes: 0};
    const {folder, bytes} = await statfsFree(dir);
    if (platform !== "darwin") return {bytes, purgeableBytes: 0};
    const important = await importantCapacity(folder).catch(() => undefined);
    return important != null && important > bytes ? {bytes: important, purgeableBytes: important - bytes} : {bytes, purgeableBytes: 0};
}

/** diskSpace's bytes: what doctor and the planner compare a model's size with. */
export async function freeBytes(dir: string, options: DiskSpaceOptions = {}): Promise<number> {
    return (await diskSpace(dir, options)).bytes;
}

async function statfsFree(dir: string): Promise<{folder: string, bytes: number}> {
    let folder = path.resolve(dir);
    for (;;) {
        try {
            const stat = await fs.statfs(folder);
            return {folder, bytes: stat.bavail * stat.bsize};
        } catch (error) {
            const parent = path.dirname(folder);
            if ((error as NodeJS.ErrnoException).code !== "ENOENT" || parent === folder) throw error;
            folder = parent;
        }
    }
}

/**
 * The Foundation resource value through osascript's JavaScript (on every Mac; no compiler needed).
 * `diskutil info -plist`'s FreeSpace and APFSContainerFree were not used: they are not documented
 * to include purgeable space, and this resource value is (Apple's "Checking Volume Storage Capacity").
 */
const importantCapacityScript = `ObjC.import("Foundation");
function run(argv) {
    const value = Ref();
    const url = $.NSURL.fileURLWithPath(argv[0]);
    if (!url.getResourceValueForKeyError(value, $.NSURLVolumeAvailableCapacityForImportantUsageKey, null)) return "";
    return String(ObjC.unwrap(value[0]));
}`;

/** Reads the output of osascript as a byte count; anything else (an error, no answer in 5 s) is unknown. */
export function parseByteCount(output: string): number | undefined {
    const text = output.trim();
    return /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
}

const macImportantCapacity: ImportantCapacity = (folder) => new Promise((resolve) => {
    execFile("/usr/bin/osascript", ["-l", "JavaScript", "-e", importantCapacityScript, folder], {timeout: 5000, encoding: "utf8"},
        (error, stdout) => resolve(error == null ? parseByteCount(stdout) : undefined));
});
