import fs from "node:fs/promises";
import path from "node:path";
import {setTimeout as sleep} from "node:timers/promises";
import {DownloadError, InterruptedError, MixtralError} from "../errors.js";
import {formatBytes} from "../formatBytes.js";
import {assertFreeSpace} from "./diskSpace.js";
import {fsyncFile, fsyncFolder, placeExistingCopy, renameInStore, windowsPathTooLong} from "./fileOperations.js";
import {findExistingCopies, type ExistingCopy} from "./findExisting.js";
import {fetchToFile, HttpStatusError, OversizedBodyError, resumeOffset, SizeMismatchError, StallError} from "./httpTransfer.js";
import {huggingFaceFileUrl, redactToken} from "./huggingFace.js";
import {acquireLock, type LockHolder} from "./lockFile.js";
import {backoffDelay, probeRemote, type RemoteFile, type RetryPolicy} from "./probeRemote.js";
import type {ModelSpec} from "./resolveName.js";
import {retryDelay, unknownHostError} from "./retryRules.js";
import {sha256File} from "./sha256File.js";
import {assertStoreFolder, storeAccessError} from "./storeAccess.js";
import {fileSize, stagingFilesFor, storeDir, storePathFor, type StagingFiles} from "./store.js";

export type PullTarget = Exclude<ModelSpec, {kind: "path"}>;

export type PullEvent =
    | {type: "waiting", holder: LockHolder}
    | {type: "verifyingCopy", copy: ExistingCopy}
    | {type: "start", bytes?: number, resumeFrom: number}
    | {type: "progress", downloadedBytes: number, totalBytes: number, bytesPerSecond: number}
    | {type: "retry", attempt: number, delayMs: number, reason: string}
    | {type: "verifying", bytes: number}
    | {type: "hashProgress", hashedBytes: number, totalBytes: number}
    | {type: "unverified", reason: string};

/**
 * What a new file was checked against, for the message that says so: its sha256 against the
 * catalog's, the server's (Hugging Face's X-Linked-Etag) or the one another tool's folder names it
 * by, or none; its size against the catalog's exact size, the server's announced one, or none.
 */
export type Verification = {
    sha256: "catalog" | "server" | "folder" | "none",
    size: "catalog" | "server" | "none"
};

export type PullResult = {
    path: string,
    bytes: number,
    sha256?: string,
    /** Absent when the file was already in the store (nothing new was checked). */
    verified?: Verification,
    /** Already in the store: nothing was fetched. */
    alreadyPresent: boolean,
    /** Linked from another tool's folder instead of downloaded. */
    reusedFrom?: ExistingCopy
};

export type PullOptions = {
    signal?: AbortSignal,
    onEvent?: (event: PullEvent) => void,
    env?: NodeJS.ProcessEnv,
    /** Look in the Hugging Face cache, LM Studio and Ollama first (default true). */
    reuse?: boolean,
    /** This system unless a test says otherwise (Windows limits path lengths). */
    platform?: NodeJS.Platform
};

/** Tuning, overridable by env for tests: MIXTRAL_DOWNLOAD_ATTEMPTS, MIXTRAL_DOWNLOAD_RETRY_MS, MIXTRAL_DOWNLOAD_STALL_MS. */
function retryPolicy(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
    const number = (name: string, fallback: number) => {
        const value = Number(env[name]);
        return env[name] != null && Number.isFinite(value) && value > 0 ? value : fallback;
    };
    return {attempts: number("MIXTRAL_DOWNLOAD_ATTEMPTS", 6), baseDelayMs: number("MIXTRAL_DOWNLOAD_RETRY_MS", 1000), stallMs: number("MIXTRAL_DOWNLOAD_STALL_MS", 60_000)};
}

export function remoteUrlOf(target: PullTarget, env: NodeJS.ProcessEnv = process.env): string {
    return target.kind === "catalog" ? huggingFaceFileUrl(target.entry.repo, target.entry.file, target.entry.revision, env) : target.url;
}

/**
 * Makes a catalog or remote model available in the store, or throws. The file appears under its
 * final name only after its sha256 matched (the catalog's, else the server's): bytes land in
 * `.partial/`, are hashed, then renamed. One process at a time per file (a lock); others wait and
 * find it ready. Interrupted or failed transfers keep their bytes for the next attempt; bad bytes
 * are deleted.
 */
export async function pullModel(target: PullTarget, options: PullOptions = {}): Promise<PullResult> {
    const env = options.env ?? process.env;
    try {
        await assertStoreFolder(storeDir(env), env);
        return await pullOrWait(target, options);
    } catch (error) {
        // Ctrl+C while waiting for a lock, probing or backing off: still a clean exit 130.
        if (options.signal?.aborted === true && !(error instanceof MixtralError))
            throw new InterruptedError("Interrupted; nothing was lost.", {hint: "Run the same command again to continue.", cause: error});
        // A read-only store, a file where a folder should be: one sentence naming the store.
        throw storeAccessError(error, storeDir(env), env) ?? error;
    }
}

async function pullOrWait(target: PullTarget, options: PullOptions): Promise<PullResult> {
    const env = options.env ?? process.env;
    const dir = storeDir(env);
    const finalPath = storePathFor(target, dir);
    const present = await fileSize(finalPath);
    if (present != null) return {path: finalPath, bytes: present, alreadyPresent: true};

    const staging = stagingFilesFor(finalPath, dir);
    const tooLong = windowsPathTooLong(staging.inTransit, options.platform);
    if (tooLong != null)
        throw new DownloadError(`Cannot download into the model store: ${tooLong}.`, {hint: "Set MIXTRAL_MODELS to a short folder such as D:\\models."});
    const lock = await acquireLock(staging.lock, {signal: options.signal, onWait: (holder) => options.onEvent?.({type: "waiting", holder})});
    try {
        // The process we waited for may have finished the job.
        const ready = await fileSize(finalPath);
        if (ready != null) return {path: finalPath, bytes: ready, alreadyPresent: true};
        return await pullLocked(target, finalPath, staging, options, env);
    } finally {
        await lock.release();
    }
}

async function pullLocked(target: PullTarget, finalPath: string, staging: StagingFiles, options: PullOptions, env: NodeJS.ProcessEnv): Promise<PullResult> {
    const policy = retryPolicy(env);
    const url = remoteUrlOf(target, env);
    const catalogSha = target.kind === "catalog" ? target.entry.sha256 ?? undefined : undefined;
    // A catalog size marked exact is a check of its own: without a catalog sha256, the server's
    // checksum only says the server sent what it meant to, not that it is the file named.
    const catalogBytes = target.kind === "catalog" && target.entry.bytesExact ? target.entry.bytes : undefined;
    const repo = target.kind === "catalog" ? target.entry.repo : target.repo;
    const file = target.kind === "catalog" ? target.entry.file : target.file;

    const copies = options.reuse === false ? [] : await findExistingCopies({repo, file, sha256: catalogSha}, env);
    let remote: RemoteFile | undefined;
    if (copies.length > 0) {
        // Offline is fine when a local copy can vouch for itself; the server only adds a checksum.
        remote = catalogSha == null ? await probeRemote(url, {...policy, attempts: 1}, {signal: options.signal, env}).catch(() => undefined) : undefined;
        for (const copy of copies) {
            if (catalogBytes != null && copy.bytes !== catalogBytes) continue;
            const expected = catalogSha != null ? {sha256: catalogSha, from: "catalog" as const}
                : remote?.sha256 != null ? {sha256: remote.sha256, from: "server" as const}
                    : copy.claimedSha256 != null ? {sha256: copy.claimedSha256, from: "folder" as const} : undefined;
            const reused = await tryReuse(copy, expected, catalogBytes != null, finalPath, options);
            if (reused != null) return reused;
        }
    }

    remote ??= await probeRemote(url, policy, {signal: options.signal, env, onRetry: (attempt, delayMs, reason) => options.onEvent?.({type: "retry", attempt, delayMs, reason})});
    if (catalogBytes != null && remote.bytes != null && remote.bytes !== catalogBytes) {
        // Not a file to resume into or to keep: whatever is in .partial/ was for another size.
        await deletePartial(staging);
        throw new DownloadError(`The server offers ${file} as ${describeSize(remote.bytes)}, but the catalog says ${target.kind === "catalog" ? target.entry.name : file} is exactly ${describeSize(catalogBytes)}; nothing was downloaded.`, {
            hint: wrongFileHint
        });
    }
    const expectedSha = catalogSha ?? remote.sha256;
    const expectedBytes = catalogBytes ?? remote.bytes;
    const note: PartialNote = {url, sha256: expectedSha, bytes: expectedBytes};
    note.validator = await discardStalePartial(staging, note);

    const totalNeeded = expectedBytes ?? (target.kind === "catalog" ? target.entry.bytes : 0);
    // A complete file under the staging name (verification was interrupted) counts whole: nothing to fetch.
    const complete = await fileSize(staging.complete);
    const onDisk = complete ?? await resumeOffset(staging.inTransit, expectedBytes);
    await assertFreeSpace(path.dirname(staging.complete), Math.max(0, totalNeeded - onDisk), env, options.platform);

    options.onEvent?.({type: "start", bytes: expectedBytes, resumeFrom: onDisk});
    if (complete == null) await transferWithRetries(url, staging, expectedBytes, note, policy, options, env);

    const bytes = (await fileSize(staging.complete)) ?? 0;
    if (expectedBytes != null && bytes !== expectedBytes) {
        await deletePartial(staging);
        throw new DownloadError(`The download of ${file} ended with ${bytes} bytes instead of ${expectedBytes}; the incomplete data was deleted.`, {
            hint: "Run the command again to download it afresh."
        });
    }
    const sha256 = await verifyFile(staging.complete, bytes, expectedSha, options, () => deletePartial(staging));
    try {
        await fs.mkdir(path.dirname(finalPath), {recursive: true});
        // On disk before it gets its final name: a crash must never leave a usable name on unwritten data.
        await fsyncFile(staging.complete);
        // rename(2) within one file system is atomic: readers see no file, or the whole verified file.
        await moveIntoPlace(staging.complete, finalPath);
    } catch (error) {
        // Only the last step failed: say what to fix, and that nothing needs downloading again.
        const access = storeAccessError(error, storeDir(env), env);
        if (access == null) throw error;
        throw new DownloadError(access.message.replace(/\.$/, "; the verified download is kept in .partial/."), {
            hint: `${access.hint ?? ""} The same command then moves it into place without downloading it again.`.trim(),
            cause: error
        });
    }
    await fsyncFolder(path.dirname(finalPath));
    await fs.rm(staging.note, {force: true});
    const verified: Verification = {
        sha256: catalogSha != null ? "catalog" : remote.sha256 != null ? "server" : "none",
        size: catalogBytes != null ? "catalog" : remote.bytes != null ? "server" : "none"
    };
    return {path: finalPath, bytes, sha256, verified, alreadyPresent: false};
}

const wrongFileHint = "The server (HF_ENDPOINT, a proxy or a mirror) is sending another file, or the repository's file changed; a file of the wrong size is never stored.";

/** "547 kB (547,136 bytes)": the rounded size alone hides a difference of a few bytes. */
function describeSize(bytes: number): string {
    return `${formatBytes(bytes)} (${bytes.toLocaleString("en-US")} bytes)`;
}

/**
 * The final rename of a verified file. When .partial/ is on another file system than the store
 * folder (a mount or a symlink there), rename fails with EXDEV: then the file is copied next to its
 * final name and renamed there, so a verified download never stays behind in .partial/.
 */
async function moveIntoPlace(staged: string, finalPath: string) {
    try {
        await renameInStore(staged, finalPath);
        return;
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    }
    const beside = `${finalPath}.move-${process.pid}`;
    try {
        await fs.copyFile(staged, beside);
        await fsyncFile(beside);
        await renameInStore(beside, finalPath);
    } catch (error) {
        await fs.rm(beside, {force: true});
        throw error;
    }
    await fs.rm(staged, {force: true});
}

async function tryReuse(copy: ExistingCopy, expected: {sha256: string, from: Verification["sha256"]} | undefined, sizeFromCatalog: boolean, finalPath: string,
    options: PullOptions): Promise<PullResult | undefined> {
    if (expected == null) return undefined;
    options.onEvent?.({type: "verifyingCopy", copy});
    let actual: string;
    try {
        actual = await sha256File(copy.path, {signal: options.signal, onProgress: (hashedBytes) => options.onEvent?.({type: "hashProgress", hashedBytes, totalBytes: copy.bytes})});
    } catch (error) {
        // Another user's file we may not read, or one deleted meanwhile: not a copy to reuse.
        if (options.signal?.aborted === true) throw error;
        return undefined;
    }
    if (actual !== expected.sha256) return undefined;
    await fs.mkdir(path.dirname(finalPath), {recursive: true});
    try {
        await placeExistingCopy(copy.path, finalPath);
    } catch (error) {
        // No link and no room for a copy (or the copy vanished): download it instead, which says
        // plainly when the disk is too small.
        if (options.signal?.aborted === true) throw error;
        return undefined;
    }
    return {path: finalPath, bytes: copy.bytes, sha256: actual, alreadyPresent: false, reusedFrom: copy,
        verified: {sha256: expected.from, size: sizeFromCatalog ? "catalog" : "none"}};
}

/** What the bytes in `.partial/` are: resumed only into the same URL, size and checksum. `validator` is the server's ETag for them (If-Range). */
type PartialNote = {url: string, sha256?: string, bytes?: number, validator?: string};

/** Bytes from another URL or another version of the file must not be resumed into this one. Returns the validator of bytes kept. */
async function discardStalePartial(staging: StagingFiles, note: PartialNote): Promise<string | undefined> {
    let previous: PartialNote | undefined;
    try {
        previous = JSON.parse(await fs.readFile(staging.note, "utf8")) as PartialNote;
    } catch {
        previous = undefined;
    }
    const same = previous != null && previous.url === note.url && previous.sha256 === note.sha256 && previous.bytes === note.bytes;
    if (!same) await deletePartial(staging);
    await fs.mkdir(path.dirname(staging.note), {recursive: true});
    const validator = same ? previous?.validator : undefined;
    await fs.writeFile(staging.note, JSON.stringify({...note, validator}));
    return validator;
}

async function deletePartial(staging: StagingFiles) {
    for (const file of [staging.complete, staging.inTransit, staging.note]) await fs.rm(file, {force: true});
}

function downloadInterrupted() {
    return new InterruptedError("Download interrupted; the bytes received so far are kept.", {hint: "Run the same command again to resume where it stopped."});
}

/**
 * Runs transfer attempts until the file is complete: a 5xx, a reset, a cut or a stall (no byte for
 * stallMs) is retried with backoff, each attempt resuming from the bytes already on disk.
 */
async function transferWithRetries(url: string, staging: StagingFiles, expectedBytes: number | undefined, note: PartialNote, policy: RetryPolicy,
    options: PullOptions, env: NodeJS.ProcessEnv) {
    // The budget counts failures in a row: an attempt that brought bytes starts the count afresh,
    // so a long download over a flaky link is not abandoned after its sixth cut.
    let failures = 0;
    for (;;) {
        const bytesBefore = await fileSize(staging.inTransit) ?? 0;
        try {
            await fetchToFile({
                url,
                file: staging.inTransit,
                totalBytes: expectedBytes,
                env,
                signal: options.signal,
                stallMs: policy.stallMs,
                validator: note.validator,
                onValidator: async (validator) => {
                    if (validator === note.validator) return;
                    note.validator = validator;
                    await fs.writeFile(staging.note, JSON.stringify(note)).catch(() => {});
                },
                onProgress: (progress) => options.onEvent?.({type: "progress", ...progress})
            });
            await renameInStore(staging.inTransit, staging.complete);
            return;
        } catch (error) {
            if (options.signal?.aborted === true) throw downloadInterrupted();
            if (error instanceof SizeMismatchError) {
                // Another file than the one expected: its bytes are nothing to resume.
                await deletePartial(staging);
                throw new DownloadError(`The server sends a file of ${describeSize(error.serverBytes)} where ${describeSize(error.expectedBytes)} were expected; nothing was kept.`, {
                    hint: wrongFileHint
                });
            }
            const unknownHost = unknownHostError(error, url);
            if (unknownHost != null) throw unknownHost;
            failures = (await fileSize(staging.inTransit) ?? 0) > bytesBefore ? 1 : failures + 1;
            const attempt = failures;
            const stalled = error instanceof StallError;
            const reason = stalled ? `no data for ${Math.round(policy.stallMs / 1000)} s` : redactToken(describe(error), env);
            if (!stalled && !isTransient(error))
                throw error instanceof MixtralError || storeAccessError(error, storeDir(env), env) != null ? error : new DownloadError(`The download failed: ${reason}.`, {hint: "Run the command again; the bytes received so far are kept.", cause: sanitized(error, env)});
            if (attempt >= policy.attempts)
                throw new DownloadError(`The download failed after ${attempt} attempts: ${reason}.`, {
                    hint: "Check the network and run the same command again; it resumes where it stopped.",
                    cause: sanitized(error, env)
                });
            const delayMs = retryDelay(backoffDelay(policy.baseDelayMs, attempt), error instanceof HttpStatusError ? error.retryAfterMs : undefined, "The download server");
            options.onEvent?.({type: "retry", attempt, delayMs, reason});
            await sleep(delayMs, undefined, {signal: options.signal}).catch(() => {
                throw downloadInterrupted();
            });
        }
    }
}

/** A 4xx other than 408/429 will not get better by asking again; everything else may. */
function isTransient(error: unknown): boolean {
    // The local disk, not the network: asking the server again will not help.
    if (["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EISDIR"].includes(String((error as {code?: unknown}).code))) return false;
    // A server that overran its announced size would only do it again.
    if (error instanceof OversizedBodyError) return false;
    if (error instanceof HttpStatusError) return error.statusCode >= 500 || error.statusCode === 429 || error.statusCode === 408;
    return !(error instanceof MixtralError);
}

function describe(error: unknown): string {
    if (error instanceof Error) {
        const code = (error as {code?: unknown}).code;
        return typeof code === "string" && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
    }
    return String(error);
}

/** Causes are printed with --verbose: strip HF_TOKEN from them (in case a URL or header ever carries it). */
function sanitized(error: unknown, env: NodeJS.ProcessEnv): Error {
    return new Error(redactToken(error instanceof Error ? error.stack ?? error.message : String(error), env));
}

/**
 * Hashes the complete file and compares with the expected sha256. On a mismatch the bad bytes are
 * deleted before saying so. Without any expected checksum (a plain URL whose server sends none),
 * the GGUF signature is the only check, and the event says so.
 */
async function verifyFile(file: string, bytes: number, expected: string | undefined, options: PullOptions, discard: () => Promise<void>): Promise<string> {
    options.onEvent?.({type: "verifying", bytes});
    let actual: string;
    try {
        actual = await sha256File(file, {signal: options.signal, onProgress: (hashedBytes) => options.onEvent?.({type: "hashProgress", hashedBytes, totalBytes: bytes})});
    } catch (error) {
        if (options.signal?.aborted === true)
            throw new InterruptedError("Interrupted while verifying; the downloaded file is kept.", {hint: "Run the same command again to finish verifying it."});
        throw error;
    }
    if (expected != null && actual !== expected) {
        await discard();
        throw new DownloadError(`Checksum mismatch for ${path.basename(file)}: expected sha256 ${expected}, got ${actual}. The corrupt download was deleted.`, {
            hint: "Run the command again to download it afresh; if it keeps failing, the server or a proxy is altering the file."
        });
    }
    if (expected == null) {
        const handle = await fs.open(file, "r");
        const magic = Buffer.alloc(4);
        try {
            await handle.read(magic, 0, 4, 0);
        } finally {
            await handle.close();
        }
        if (magic.toString("latin1") !== "GGUF") {
            await discard();
            throw new DownloadError(`The downloaded ${path.basename(file)} is not a GGUF model file; it was deleted.`, {hint: "Check the URL: it must point at the .gguf file itself."});
        }
        options.onEvent?.({type: "unverified", reason: "the server sent no sha256 for this file, so only its GGUF signature and size were checked"});
    }
    return actual;
}
