import {randomBytes} from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {startFakeHuggingFace, type FakeHuggingFace} from "./helpers/fakeHuggingFace.js";
import {runCli} from "./helpers/runCli.js";

/** Two files of the same name in two folders of one repo: each has its own copy, and rm of one keeps the other. */
const repo = "someone/two-folders";
const first = Buffer.concat([Buffer.from("GGUF"), randomBytes(4096)]);
const second = Buffer.concat([Buffer.from("GGUF"), randomBytes(8192)]);

let server: FakeHuggingFace;
let work: string;

beforeAll(async () => {
    server = await startFakeHuggingFace([{repo, file: "a/x.gguf", data: first}, {repo, file: "b/x.gguf", data: second}]);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-identity-"));
});

afterAll(async () => {
    await server.stop();
    fs.rmSync(work, {recursive: true, force: true});
});

const env = () => ({HF_ENDPOINT: server.url, MIXTRAL_MODELS: path.join(work, "store"), HOME: work, XDG_CACHE_HOME: undefined, MIXTRAL_DOWNLOAD_RETRY_MS: "50"});

describe("files with the same name from different places", () => {
    it("pulls hf:o/r/a/x.gguf and hf:o/r/b/x.gguf to two files, and models rm of one keeps the other", async () => {
        const pullA = await runCli(["pull", `hf:${repo}/a/x.gguf`], {env: env()});
        expect(pullA.code, pullA.stderr).toBe(0);
        const pullB = await runCli(["pull", `hf:${repo}/b/x.gguf`], {env: env()});
        expect(pullB.code, pullB.stderr).toBe(0);
        const pathA = pullA.stdout.trim();
        const pathB = pullB.stdout.trim();
        expect(pathA).not.toBe(pathB);
        expect(fs.readFileSync(pathA).equals(first)).toBe(true);
        expect(fs.readFileSync(pathB).equals(second)).toBe(true);

        const rm = await runCli(["models", "rm", `hf:${repo}/a/x.gguf`], {env: env()});
        expect(rm.code, rm.stderr).toBe(0);
        expect(fs.existsSync(pathA)).toBe(false);
        expect(fs.readFileSync(pathB).equals(second)).toBe(true);
        const located = await runCli(["models", "path", `hf:${repo}/b/x.gguf`], {env: env()});
        expect(located.stdout.trim()).toBe(pathB);
    });

    it("pulls one file at two revisions to two files", async () => {
        const main = await runCli(["pull", `hf:${repo}/a/x.gguf#main`], {env: env()});
        const v2 = await runCli(["pull", `hf:${repo}/a/x.gguf#v2`], {env: env()});
        expect(main.code, main.stderr).toBe(0);
        expect(v2.code, v2.stderr).toBe(0);
        expect(main.stdout.trim()).not.toBe(v2.stdout.trim());
        expect(server.requests.some((request) => request.path.includes("/resolve/v2/a/x.gguf"))).toBe(true);
    });
});
