import fs from "node:fs/promises";
import path from "node:path";
import {MixtralError, UsageError} from "../errors.js";
import {expandHome, mixtralFolder, thisSystem, type UserSystem} from "../userFolders.js";
import {isHeldByAnotherProgram} from "./fileOperations.js";
import {acquireLock, type Lock, type LockHolder} from "./lockFile.js";
import type {CatalogEntry} from "./catalog.js";
import type {ModelSpec} from "./resolveName.js";

/**
 * Where downloaded models live: $MIXTRAL_MODELS, else the system's cache folder (userFolders.ts):
 * ~/.cache/mixtral/models on Linux, ~/Library/Caches/mixtral/models on macOS (outside Time
 * Machine's backups), %LOCALAPPDATA%\mixtral\models on Windows (not roamed) — or the old
 * ~/.cache/mixtral/models where an earlier version filled it.
 */
export function storeDir(env: NodeJS.ProcessEnv = process.env, system: UserSystem = thisSystem(env)): string {
    if (env.MIXTRAL_MODELS != null && env.MIXTRAL_MODELS !== "") return path.resolve(expandHome(env.MIXTRAL_MODELS, system));
    return mixtralFolder("cache", system, "models");
}

/** Unfinished downloads, lock files and their notes: never a usable model. */
const partialDirName = ".partial";

export function catalogFilePath(entry: CatalogEntry, dir = storeDir()): string {
    return path.join(dir, entry.file);
}

/** The final path a pulled catalog or remote model gets in the store. */
export function storePathFor(spec: Exclude<ModelSpec, {kind: "path"}>, dir = storeDir()): string {
    return spec.kind === "catalog" ? catalogFilePath(spec.entry, dir) : path.join(dir, spec.storeSubdir, spec.file);
}

/**
 * The files a pull keeps for one store path, in the same folder tree under .partial so the final
 * rename is atomic (one file system). Bytes land in `inTransit`, appended in order; once complete
 * it is renamed to `complete`, hashed, fsynced, then renamed into the store.
 */
export type StagingFiles = {
    inTransit: string,
    /** Every byte arrived; waiting for (or interrupted in) its sha256 check. */
    complete: string,
    /** What the bytes are (URL, size, sha256, validator): they resume only into the same download. */
    note: string,
    /** Held by the one process pulling this file. */
    lock: string
};

export function stagingFilesFor(finalPath: string, dir = storeDir()): StagingFiles {
    const base = path.join(dir, partialDirName, path.relative(dir, finalPath));
    return {inTransit: base + ".download", complete: base, note: base + ".json", lock: base + ".lock"};
}

export async function fileSize(file: string): Promise<number | undefined> {
    try {
        const stat = await fs.stat(file);
        return stat.isFile() ? stat.size : undefined;
    } catch {
        return undefined;
    }
}

/** True when `target` is inside `dir` (not dir itself, not via `..`). */
function isInside(dir: string, target: string): boolean {
    const relative = path.relative(dir, target);
    return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

/**
 * Turns a `models rm` argument that is not a catalog name into a file in the store. Anything that
 * resolves outside the store (`../x`, an absolute path elsewhere) is refused: rm must never touch
 * a user's other files.
 */
export function storeFileFromArgument(argument: string, dir = storeDir()): string {
    const target = path.resolve(dir, argument);
    if (!isInside(dir, target) || path.relative(dir, target).split(path.sep)[0] === partialDirName)
        throw new UsageError(`Refusing to remove ${argument}: it is not a model in the store (${dir}).`, {
            hint: "Pass a catalog name such as instruct:Q4_K_M or a file name listed by `mixtral models`."
        });
    return target;
}

/** Removes a model and any partial download of it; returns what was removed. */
export async function removeFromStore(finalPath: string, dir = storeDir(), platform: NodeJS.Platform = process.platform): Promise<string[]> {
    const removed: string[] = [];
    const staging = stagingFilesFor(finalPath, dir);
    // A pull of this file holds its lock: removing its bytes under it would lose them mid-download.
    let holder: LockHolder | undefined;
    const busy = new AbortController();
    let lock: Lock;
    try {
        lock = await acquireLock(staging.lock, {signal: busy.signal, onWait: (who) => { holder = who; busy.abort(); }});
    } catch (error) {
        if (holder == null) throw error;
        throw new MixtralError(`${path.basename(finalPath)} is being downloaded right now (process ${holder.pid}); nothing removed.`, {
            hint: "Stop that `mixtral pull` first (Ctrl+C keeps its partial file), then remove the model."
        });
    }
    try {
        for (const file of [finalPath, staging.inTransit, staging.complete, staging.note]) {
            try {
                await fs.rm(file);
                removed.push(file);
            } catch (error) {
                if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
                // Windows refuses to delete a file another program has open; POSIX unlinks it anyway.
                if (platform === "win32" && isHeldByAnotherProgram(error))
                    throw new MixtralError(`${path.basename(file)} is open in another program (a running \`mixtral serve\` or chat, or an antivirus scan); nothing more was removed.`, {
                        hint: "Stop the program using it, then run the same command again.",
                        cause: error
                    });
                throw error;
            }
        }
    } finally {
        await lock.release();
    }
    return removed;
}

/** Every *.gguf file under the store, excluding partial downloads. */
export async function listStoreFiles(dir = storeDir()): Promise<{path: string, bytes: number}[]> {
    const found: {path: string, bytes: number}[] = [];
    async function walk(folder: string) {
        let entries;
        try {
            entries = await fs.readdir(folder, {withFileTypes: true});
        } catch {
            return;
        }
        for (const entry of entries) {
            const full = path.join(folder, entry.name);
            if (entry.isDirectory() && entry.name !== partialDirName) await walk(full);
            else if (/\.gguf$/i.test(entry.name)) {
                const bytes = await fileSize(full);
                if (bytes != null) found.push({path: full, bytes});
            }
        }
    }
    await walk(dir);
    return found.sort((a, b) => a.path.localeCompare(b.path));
}
