import fs, {type FileHandle} from "node:fs/promises";
import {setTimeout as sleep} from "node:timers/promises";
import {windowsMaxPath} from "../windowsPaths.js";

/**
 * The file operations of the store whose behaviour differs between Linux, macOS and Windows, in one
 * place. Each takes the file-system calls (and the platform) as parameters, so a test on Linux can
 * answer as Windows does: EPERM where POSIX allows, EBUSY while an antivirus scans a new file.
 */
export type FileCalls = {
    open: (file: string, flags: string) => Promise<FileHandle>,
    link: (existing: string, created: string) => Promise<void>,
    symlink: (target: string, created: string) => Promise<void>,
    copyFile: (from: string, to: string) => Promise<void>,
    rename: (from: string, to: string) => Promise<void>,
    rm: (file: string, options: {force: boolean}) => Promise<void>
};

/** The real calls, looked up when used (so a test's spy on node:fs/promises is seen too). */
export const realFileCalls: FileCalls = {
    open: (file, flags) => fs.open(file, flags),
    link: (existing, created) => fs.link(existing, created),
    symlink: (target, created) => fs.symlink(target, created),
    copyFile: (from, to) => fs.copyFile(from, to),
    rename: (from, to) => fs.rename(from, to),
    rm: (file, options) => fs.rm(file, options)
};

/**
 * A file's data on disk before it gets its usable name. Opened for writing: Windows flushes through
 * FlushFileBuffers, which answers EPERM on a read-only handle (POSIX fsync takes either), and a
 * 50 GB download must not fail at its very last step.
 */
export async function fsyncFile(file: string, calls: Pick<FileCalls, "open"> = realFileCalls) {
    const handle = await calls.open(file, "r+");
    try {
        await handle.sync();
    } finally {
        await handle.close();
    }
}

/**
 * A folder's new entry (a rename into it) on disk. POSIX only: Windows cannot open a folder as a
 * file, and NTFS journals the rename itself. Best effort everywhere: the data is already synced.
 */
export async function fsyncFolder(dir: string, {platform = process.platform, calls = realFileCalls}: {platform?: NodeJS.Platform, calls?: Pick<FileCalls, "open">} = {}) {
    if (platform === "win32") return;
    try {
        const handle = await calls.open(dir, "r");
        try {
            await handle.sync();
        } finally {
            await handle.close();
        }
    } catch {
        // Some file systems (network, FUSE) refuse to sync a folder; nothing more can be done.
    }
}

/** How an existing copy was placed in the store. */
export type Placement = "hard link" | "symlink" | "copy";

/**
 * Puts `source` (another tool's verified copy) at `target` without downloading it again: a hard link
 * costs no space and survives the other tool deleting its copy; across disks (EXDEV) a symlink;
 * where neither is allowed (Windows without Developer Mode, exFAT, FAT32) a copy, which reads a
 * local disk and is still far faster than the network. Staged beside `target`, then renamed.
 */
export async function placeExistingCopy(source: string, target: string, {calls = realFileCalls, platform = process.platform}: {calls?: FileCalls, platform?: NodeJS.Platform} = {}): Promise<Placement> {
    const staged = `${target}.link-${process.pid}`;
    await calls.rm(staged, {force: true});
    let placement: Placement;
    try {
        await calls.link(source, staged);
        placement = "hard link";
    } catch {
        try {
            await calls.symlink(source, staged);
            placement = "symlink";
        } catch {
            try {
                await calls.copyFile(source, staged);
                await fsyncFile(staged, calls);
            } catch (error) {
                await calls.rm(staged, {force: true});
                throw error;
            }
            placement = "copy";
        }
    }
    await renameInStore(staged, target, {calls, platform});
    return placement;
}

/** How long a rename on Windows is retried while another program holds the file. */
const busyRetryMs = [100, 200, 400, 800, 1600, 3200];

/**
 * rename(2), retried on Windows while the file is briefly held open: an antivirus scanning a file
 * just written, the search indexer, or a `mixtral serve` still reading the old file answer EBUSY,
 * EPERM or EACCES for a moment (the same retry npm's graceful-fs does). POSIX never does that, so
 * there an error is final at once.
 */
export async function renameInStore(from: string, to: string, {calls = realFileCalls, platform = process.platform}: {calls?: Pick<FileCalls, "rename">, platform?: NodeJS.Platform} = {}) {
    for (let attempt = 0; ; attempt++) {
        try {
            await calls.rename(from, to);
            return;
        } catch (error) {
            const delay = busyRetryMs[attempt];
            if (platform !== "win32" || delay == null || !isHeldByAnotherProgram(error)) throw error;
            await sleep(delay);
        }
    }
}

/** Windows's answers for a file another program has open. */
export function isHeldByAnotherProgram(error: unknown): boolean {
    return ["EBUSY", "EPERM", "EACCES"].includes(String((error as {code?: unknown} | undefined)?.code));
}

/**
 * A store path Windows programs can open, or a sentence saying why not (windowsLongPaths.ts lets
 * llama.cpp open a longer --model, but a store that deep is refused before anything downloads). Node itself handles long
 * paths, so only the longest file the pull writes (its .partial/ download) is measured.
 */
export function windowsPathTooLong(longestPath: string, platform: NodeJS.Platform = process.platform): string | undefined {
    if (platform !== "win32" || longestPath.length <= windowsMaxPath) return undefined;
    return `${longestPath} is ${longestPath.length} characters long, more than the ${windowsMaxPath} Windows programs can open`;
}
