import {mkdir, open, readdir, rename, rm, writeFile} from "node:fs/promises";
import path from "node:path";
import type {FileIdentity} from "../gguf/fileIdentity.js";
import {couldBeSameProcess, identityOf, ownIdentity} from "../processIdentity.js";
import {mixtralFolder, thisSystem} from "../userFolders.js";

/**
 * Running `mixtral serve` processes announce themselves here, one JSON file per process, so that
 * `complete`/`chat` without `--endpoint` can use a server that already holds the same model file
 * (a shell loop then pays the model load once). Nothing secret is written: a server started with
 * an API key says only that it needs one (clients send MIXTRAL_API_KEY).
 */
export type ServerAnnouncement = {
    pid: number,
    /** The OpenAI base URL, e.g. http://127.0.0.1:8080/v1 */
    baseUrl: string,
    /** The model file's real path (symlinks resolved). */
    modelPath: string,
    /** The id `GET /v1/models` lists. */
    modelId: string,
    apiKeyRequired: boolean,
    startedAt: string,
    /** LoRA adapters it applies (real paths): its answers are a fine-tune's, not the plain model's. */
    adapters?: string[],
    /** serve --experts N, when N is not the file's own count: its answers route tokens to N experts. */
    expertsUsed?: number,
    /**
     * The process's start time and boot id (as the download locks record them): a PID reused by
     * another process, or a reboot, makes the entry stale even though the PID is alive.
     */
    processStartTime?: string,
    bootId?: string,
    /** Off Linux: when the process started (ms since the epoch), as the download locks record it. */
    processStartedAt?: number,
    /** The model file as it was loaded: a file replaced under the server has other weights. */
    modelFile?: FileIdentity
};

/** This process's start time and boot id, for its announcement. */
export function thisProcessIdentity(): {processStartTime?: string, bootId?: string, processStartedAt?: number} {
    const {startTime, bootId, startedAt} = ownIdentity();
    return {...(startTime == null ? {} : {processStartTime: startTime}), ...(bootId == null ? {} : {bootId}),
        ...(startedAt == null ? {} : {processStartedAt: startedAt})};
}

// A registry is a handful of files; a folder with thousands, or a file of megabytes, is not ours to read.
const maxEntries = 256;
const maxEntryBytes = 64 * 1024;

/** $MIXTRAL_RUNTIME_DIR, else $XDG_RUNTIME_DIR/mixtral, else the system's cache folder (userFolders.ts)/run. */
export function serversDirectory(env: NodeJS.ProcessEnv = process.env): string {
    if (env.MIXTRAL_RUNTIME_DIR != null && env.MIXTRAL_RUNTIME_DIR !== "") return path.join(env.MIXTRAL_RUNTIME_DIR, "servers");
    if (env.XDG_RUNTIME_DIR != null && env.XDG_RUNTIME_DIR !== "") return path.join(env.XDG_RUNTIME_DIR, "mixtral", "servers");
    return mixtralFolder("cache", thisSystem(env), "run", "servers");
}

function announcementFile(pid: number, env?: NodeJS.ProcessEnv) {
    return path.join(serversDirectory(env), `${pid}.json`);
}

/** Written by `serve` once it listens; written to a temporary name and renamed, so readers never see half a file. */
export async function announceServer(announcement: ServerAnnouncement, env?: NodeJS.ProcessEnv): Promise<void> {
    const file = announcementFile(announcement.pid, env);
    await mkdir(path.dirname(file), {recursive: true});
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(announcement) + "\n", {mode: 0o600});
    await rename(temporary, file);
}

/** Removed by `serve` when it stops; a missing file is fine. */
export async function withdrawServer(pid: number, env?: NodeJS.ProcessEnv): Promise<void> {
    await rm(announcementFile(pid, env), {force: true});
}

/** The announcing process still runs: its PID is alive and, where /proc tells, it is the same process. */
function isAlive(entry: ServerAnnouncement): boolean {
    if (!Number.isSafeInteger(entry.pid) || entry.pid <= 0) return false;
    try {
        process.kill(entry.pid, 0);
    } catch (error) {
        // EPERM: the process exists but belongs to someone else.
        if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
    }
    return couldBeSameProcess({startTime: entry.processStartTime, bootId: entry.bootId, startedAt: entry.processStartedAt}, identityOf(entry.pid));
}

/** The file's text, or undefined when it is larger than `limit` bytes or unreadable. */
async function readSmallFile(file: string, limit: number): Promise<string | undefined> {
    let handle;
    try {
        handle = await open(file, "r");
        const buffer = Buffer.alloc(limit + 1);
        const {bytesRead} = await handle.read(buffer, 0, limit + 1, 0);
        return bytesRead > limit ? undefined : buffer.subarray(0, bytesRead).toString("utf8");
    } catch {
        return undefined;
    } finally {
        await handle?.close();
    }
}

function isAnnouncement(value: unknown): value is ServerAnnouncement {
    const entry = value as Partial<ServerAnnouncement> | null;
    return entry != null && typeof entry.pid === "number" && typeof entry.baseUrl === "string"
        && typeof entry.modelPath === "string" && typeof entry.modelId === "string" && typeof entry.apiKeyRequired === "boolean";
}

/**
 * Servers whose process is still alive (the first 256 entries, each at most 64 KiB); entries of
 * killed servers, of reused PIDs and with no real PID (≤ 0) are removed on the way.
 */
export async function listServers(env?: NodeJS.ProcessEnv): Promise<ServerAnnouncement[]> {
    const directory = serversDirectory(env);
    let names: string[];
    try {
        names = await readdir(directory);
    } catch {
        return [];
    }
    const servers: ServerAnnouncement[] = [];
    for (const name of names.filter((entry) => entry.endsWith(".json")).slice(0, maxEntries)) {
        const file = path.join(directory, name);
        const text = await readSmallFile(file, maxEntryBytes);
        let parsed: unknown;
        try {
            parsed = text == null ? undefined : JSON.parse(text);
        } catch {
            continue;
        }
        if (!isAnnouncement(parsed)) continue;
        if (isAlive(parsed)) servers.push(parsed);
        else await rm(file, {force: true}).catch(() => {});
    }
    return servers;
}
