import http from "node:http";
import {realpath} from "node:fs/promises";
import {parseEndpoint} from "./endpointUrl.js";
import {listModelIds} from "./openAiClient.js";
import {fileIdentity, sameFile, type FileIdentity} from "../gguf/fileIdentity.js";
import {listServers, type ServerAnnouncement} from "./serverRegistry.js";

export type LocalServerSearch = {
    /** A live server holding the model file that answered /health, if any. */
    server?: ServerAnnouncement,
    /** Why a server of this model file was passed over (for --verbose). */
    skipped: string[]
};

// A server on this machine answers /health in about a millisecond; a busy one may take longer,
// but waiting long would make the standalone fallback slower than not looking at all.
const healthTimeoutMs = 1000;

/** GET /health on the server's origin: 200 means ready (503 while it loads). */
export function answersHealth(baseUrl: string, timeoutMs = healthTimeoutMs): Promise<boolean> {
    return new Promise((resolve) => {
        let url: URL;
        try {
            url = new URL("/health", baseUrl);
        } catch {
            resolve(false);
            return;
        }
        if (url.protocol !== "http:") {
            resolve(false);
            return;
        }
        const request = http.get(url, {agent: false, timeout: timeoutMs}, (response) => {
            response.resume();
            resolve(response.statusCode === 200);
        });
        request.on("timeout", () => request.destroy());
        request.on("error", () => resolve(false));
    });
}

async function servesModel(server: ServerAnnouncement, env: NodeJS.ProcessEnv): Promise<boolean> {
    try {
        const key = env.MIXTRAL_API_KEY;
        const ids = await listModelIds({
            baseUrl: parseEndpoint(server.baseUrl), apiKey: key === "" ? undefined : key,
            timeouts: {firstByteMs: healthTimeoutMs, idleMs: healthTimeoutMs}
        });
        return ids.includes(server.modelId);
    } catch {
        return false;
    }
}

/**
 * The `mixtral serve` on this machine that has this very model file loaded (same real path) and
 * is ready; none when there is no such server, it is still loading, it does not answer quickly,
 * it routes tokens to another number of experts (`expertsUsed`: --experts when not the file's own),
 * it needs an API key and MIXTRAL_API_KEY is not set, the file changed since it was loaded, or
 * what answers on its port does not list its model.
 */
export async function findLocalServer(modelPath: string, env: NodeJS.ProcessEnv = process.env,
    {expertsUsed}: {expertsUsed?: number} = {}): Promise<LocalServerSearch> {
    const servers = await listServers(env);
    if (servers.length === 0) return {skipped: []};
    let realModelPath: string;
    try {
        realModelPath = await realpath(modelPath);
    } catch {
        return {skipped: []};
    }
    let file: FileIdentity | undefined;
    try {
        file = await fileIdentity(realModelPath);
    } catch {
        return {skipped: []};
    }
    const skipped: string[] = [];
    for (const server of servers.filter((entry) => entry.modelPath === realModelPath)) {
        if (server.modelFile != null && !sameFile(server.modelFile, file)) {
            skipped.push(`the server at ${server.baseUrl} (pid ${server.pid}): ${realModelPath} changed since it loaded the file`);
            continue;
        }
        if ((server.adapters?.length ?? 0) > 0) {
            skipped.push(`the server at ${server.baseUrl} (pid ${server.pid}): it applies LoRA adapters (${server.adapters!.join(", ")})`);
            continue;
        }
        // --experts (none: the file's own count) must be what the server loaded the model with.
        if (server.expertsUsed !== expertsUsed) {
            const routes = (count: number | undefined) => count == null ? "the file's own count of experts" : `${count} expert${count === 1 ? "" : "s"}`;
            skipped.push(`the server at ${server.baseUrl} (pid ${server.pid}): it routes each token to ${routes(server.expertsUsed)}, not ${routes(expertsUsed)}`);
            continue;
        }
        if (server.apiKeyRequired && (env.MIXTRAL_API_KEY ?? "") === "") {
            skipped.push(`the server at ${server.baseUrl} (pid ${server.pid}) needs an API key and MIXTRAL_API_KEY is not set`);
            continue;
        }
        if (!await answersHealth(server.baseUrl)) {
            skipped.push(`the server at ${server.baseUrl} (pid ${server.pid}) is not ready (GET /health)`);
            continue;
        }
        // Whatever answers on that port now must serve this model: the entry may outlive its server.
        if (!await servesModel(server, env)) {
            skipped.push(`the server at ${server.baseUrl} (pid ${server.pid}) does not list "${server.modelId}" (GET /v1/models)`);
            continue;
        }
        return {server, skipped};
    }
    return {skipped};
}
