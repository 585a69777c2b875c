import {mkdtemp, readdir, rm, writeFile} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {findLocalServer} from "../../src/remote/findLocalServer.js";
import {fileIdentity} from "../../src/gguf/fileIdentity.js";
import {announceServer, listServers, serversDirectory, thisProcessIdentity, type ServerAnnouncement} from "../../src/remote/serverRegistry.js";
import {fakeServer} from "./helpers/fakeOpenAiServer.js";

/**
 * The registry of running `mixtral serve` processes (issue 22, item 7) trusts nothing it cannot
 * check: an entry whose PID now belongs to another process, a model file replaced since the
 * server loaded it, a port that now serves another model, entries without a real PID, and files
 * too large or too many to be ours.
 */
let directory: string;
let env: NodeJS.ProcessEnv;
let modelPath: string;

beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), "mixtral-registry-"));
    env = {MIXTRAL_RUNTIME_DIR: directory};
    modelPath = path.join(directory, "model.gguf");
    await writeFile(modelPath, "GGUF weights");
});

afterEach(async () => {
    await rm(directory, {recursive: true, force: true});
});

/** An entry for this test process (alive, the same process) serving the model file at `baseUrl`. */
async function entry(baseUrl: string, overrides: Partial<ServerAnnouncement> = {}): Promise<ServerAnnouncement> {
    return {
        pid: process.pid, baseUrl, modelPath, modelId: "model", apiKeyRequired: false, startedAt: new Date().toISOString(),
        ...thisProcessIdentity(), modelFile: await fileIdentity(modelPath), ...overrides
    };
}

/** A server that is healthy and lists `ids`. */
async function listing(ids: string[]): Promise<string> {
    const endpoint = await fakeServer((request, response) => {
        response.writeHead(200, {"content-type": "application/json"});
        response.end(request.url === "/health" ? "{\"status\":\"ok\"}" : JSON.stringify({object: "list", data: ids.map((id) => ({id}))}));
    });
    return endpoint.href;
}

describe("the local-server registry", () => {
    it("uses an entry whose process, file and model all still match", async () => {
        await announceServer(await entry(await listing(["model"])), env);
        const {server, skipped} = await findLocalServer(modelPath, env);
        expect(skipped).toEqual([]);
        expect(server?.modelId).toBe("model");
    });

    it("drops entries with no real PID and entries whose PID another process now holds", async () => {
        const baseUrl = await listing(["model"]);
        await announceServer(await entry(baseUrl), env);
        for (const pid of [0, -1]) await writeFile(path.join(serversDirectory(env), `${pid}.json`), JSON.stringify(await entry(baseUrl, {pid})));
        expect((await listServers(env)).map((server) => server.pid)).toEqual([process.pid]);
        expect(await readdir(serversDirectory(env))).toEqual([`${process.pid}.json`]);
        // The same PID, started at another time: another process.
        if (thisProcessIdentity().processStartTime == null) return; // no /proc here to tell
        await announceServer(await entry(baseUrl, {processStartTime: "1"}), env);
        expect(await listServers(env)).toEqual([]);
        expect(await readdir(serversDirectory(env))).toEqual([]);
    });

    it("passes over a server whose model file was replaced since it loaded it", async () => {
        await announceServer(await entry(await listing(["model"])), env);
        await rm(modelPath);
        await writeFile(modelPath, "other weights, other size");
        const {server, skipped} = await findLocalServer(modelPath, env);
        expect(server).toBeUndefined();
        expect(skipped[0]).toMatch(/model\.gguf changed since it loaded the file$/);
    });

    it("passes over a port that now serves another model", async () => {
        await announceServer(await entry(await listing(["someone-elses-model"])), env);
        const {server, skipped} = await findLocalServer(modelPath, env);
        expect(server).toBeUndefined();
        expect(skipped[0]).toMatch(/does not list "model" \(GET \/v1\/models\)$/);
    });

    it("reads at most 64 KiB of an entry", async () => {
        const baseUrl = await listing(["model"]);
        const large = {...await entry(baseUrl), padding: "x".repeat(70 * 1024)};
        await announceServer(large as ServerAnnouncement, env);
        expect(await listServers(env)).toEqual([]);
    });
});
