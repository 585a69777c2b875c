import {mkdir, readdir, readFile, rename, rm, writeFile} from "node:fs/promises";
import path from "node:path";
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
    expertsUsed?: number
};

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

function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        // EPERM: the process exists but belongs to someone else.
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

function isAnnouncement(value: unknown): value is ServerAnnouncement {
    const entry = value as Partial<ServerAnnouncement> | null;
    return entry != null && typeof entry.pid === "number" && typeof entry.baseUrl === "string"
        && typeof entry.modelPath === "string" && typeof entry.modelId === "string" && typeof entry.apiKeyRequired === "boolean";
}

/** Servers whose process is still alive; files left by killed servers are removed on the way. */
export async function listServers(env?: NodeJS.ProcessEnv): Promise<ServerAnnouncement[]> {
    const directory = serversDirectory(env);
    let names: string[];
    try {
        names = await readdir(directory);
    } catch {
        return [];
    }
    const servers: ServerAnnouncement[] = [];
    for (const name of names.filter((entry) => entry.endsWith(".json"))) {
        const file = path.join(directory, name);
        let parsed: unknown;
        try {
            parsed = JSON.parse(await readFile(file, "utf8"));
        } catch {
            continue;
        }
        if (!isAnnouncement(parsed)) continue;
        if (isAlive(parsed.pid)) servers.push(parsed);
        else await rm(file, {force: true}).catch(() => {});
    }
    return servers;
}
