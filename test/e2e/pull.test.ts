import {randomBytes} from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from "vitest";
import {sha256Of, startFakeHuggingFace, type FakeHuggingFace, type Fault} from "./helpers/fakeHuggingFace.js";
import {runInPty} from "./helpers/pty.js";
import {runCli, tinyModel} from "./helpers/runCli.js";

/**
 * `mixtral pull` against a real HTTP server on 127.0.0.1 that answers like Hugging Face, with
 * faults injected. The test catalog publishes the tiny test model as instruct:Q4_K_M (sha256 in
 * the catalog) and as instruct:Q4_0 (sha256 only from the server's X-Linked-Etag).
 */
const repo = "mixtral-test/tiny-GGUF";
const token = "hf_never_print_me_42";
const tiny = fs.readFileSync(tinyModel("tiny-q8_0.gguf"));
// A bigger file for resume, so a cut or a kill lands mid-transfer.
const big = Buffer.concat([Buffer.from("GGUF"), randomBytes(40 * 1024 * 1024 - 4)]);

let server: FakeHuggingFace;
let work: string;
let catalogFile: string;

function entry(quant: string, file: string, data: Buffer, withSha: boolean) {
    return {name: `instruct:${quant}`, variant: "instruct", quant, repo, file, bytes: data.length, bytesExact: true, bitsPerWeight: 8.5, sha256: withSha ? sha256Of(data) : null};
}

beforeAll(async () => {
    server = await startFakeHuggingFace([{repo, file: "tiny-q8_0.gguf", data: tiny}, {repo, file: "tiny-nosha.gguf", data: tiny}, {repo, file: "big.gguf", data: big},
        {repo, file: "wrong-size.gguf", data: tiny}]);
    catalogFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-catalog-")), "catalog.json");
    fs.writeFileSync(catalogFile, JSON.stringify({models: [
        entry("Q4_K_M", "tiny-q8_0.gguf", tiny, true),
        entry("Q4_0", "tiny-nosha.gguf", tiny, false),
        entry("Q8_0", "big.gguf", big, true),
        // The real instruct:Q4_K_M's exact size and no sha256: what the server sends must be that size.
        {...entry("Q5_K_M", "wrong-size.gguf", tiny, false), bytes: 26_441_533_376}
    ]}));
});

afterAll(async () => {
    await server.stop();
    fs.rmSync(path.dirname(catalogFile), {recursive: true, force: true});
});

beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-pull-"));
    server.fault = "none";
    server.throttleBytesPerSecond = 0;
});

afterEach(() => {
    fs.rmSync(work, {recursive: true, force: true});
});

function env(extra: Record<string, string> = {}) {
    return {
        HF_ENDPOINT: server.url,
        HF_TOKEN: token,
        MIXTRAL_MODELS: path.join(work, "store"),
        MIXTRAL_CATALOG: catalogFile,
        HOME: work,
        XDG_CACHE_HOME: undefined as unknown as string,
        MIXTRAL_DOWNLOAD_RETRY_MS: "50",
        MIXTRAL_DOWNLOAD_STALL_MS: "1500",
        ...extra
    };
}

const storeFile = (file: string) => path.join(work, "store", file);
const partialFiles = () => {
    const dir = path.join(work, "store", ".partial");
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};

/** A pull that must fail with `message`, no stack trace, and nothing left behind: no file, no partial data, no lock. */
async function expectRefusedPull(fault: Fault, message: RegExp) {
    server.fault = fault;
    const pull = await runCli(["pull", "instruct:Q4_K_M"], {env: env()});
    expect(pull.code).toBe(1);
    expect(pull.stderr).toMatch(message);
    expect(pull.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(storeFile("tiny-q8_0.gguf"))).toBe(false);
    expect(partialFiles()).toEqual([]);
}

function expectVerified(file: string, data: Buffer) {
    expect(sha256Of(fs.readFileSync(file))).toBe(sha256Of(data));
}

describe("mixtral pull", () => {
    it("downloads a catalog model, verifies it and prints its path; complete then runs with the server gone", async () => {
        const local = await startFakeHuggingFace([{repo, file: "tiny-q8_0.gguf", data: tiny}]);
        const pull = await runCli(["pull", "instruct:q4_k_m"], {env: env({HF_ENDPOINT: local.url})});
        expect(pull.stderr).not.toContain(token);
        expect(pull.code, pull.stderr).toBe(0);
        expect(pull.stdout.trim()).toBe(storeFile("tiny-q8_0.gguf"));
        expect(pull.stderr).toMatch(/instruct:Q4_K_M downloaded and verified: sha256 [0-9a-f]{64} matches the catalog's, and its 547 kB are the catalog's exact size\./);
        expectVerified(storeFile("tiny-q8_0.gguf"), tiny);
        expect(partialFiles().filter((file) => !file.endsWith(".lock"))).toEqual([]);
        await local.stop();
        const requestsBefore = local.requests.length;

        const complete = await runCli(["complete", "--model", "instruct:Q4_K_M", "-n", "4", "--temperature", "0", "hello"], {env: env({HF_ENDPOINT: local.url})});
        expect(complete.code, complete.stderr).toBe(0);
        expect(complete.stdout.length).toBeGreaterThan(0);
        expect(local.requests.length).toBe(requestsBefore);
    });

    it("sends HF_TOKEN to the Hugging Face endpoint but never prints it, even when failing verbosely", async () => {
        const ok = await runCli(["pull", "instruct:Q4_K_M"], {env: env()});
        expect(ok.code, ok.stderr).toBe(0);
        expect(server.requests.some((request) => request.authorization === `Bearer ${token}`)).toBe(true);
        server.fault = "stallAlways";
        const failed = await runCli(["pull", "instruct:Q8_0", "--verbose"], {env: env({MIXTRAL_DOWNLOAD_ATTEMPTS: "1", MIXTRAL_DOWNLOAD_STALL_MS: "800"})});
        expect(failed.code).toBe(1);
        expect(failed.stderr).toMatch(/cause:/);
        expect(failed.stderr + failed.stdout + ok.stderr + ok.stdout).not.toContain(token);
    });

    it("keeps the partial download on Ctrl+C, exits 130, and resumes on the next pull", async () => {
        server.throttleBytesPerSecond = 2 * 1024 * 1024;
        const interrupted = await runCli(["pull", "instruct:Q8_0"], {
            env: env(),
            onSpawn: (child) => {
                const timer = setInterval(() => {
                    if (fs.existsSync(path.join(work, "store", ".partial", "big.gguf.download"))) {
                        clearInterval(timer);
                        setTimeout(() => child.kill("SIGINT"), 1500);
                    }
                }, 50);
                child.on("close", () => clearInterval(timer));
            }
        });
        expect(interrupted.code).toBe(130);
        expect(interrupted.stderr).toMatch(/error: Download interrupted; the bytes received so far are kept\.\nhint: Run the same command again to resume/);
        expect(partialFiles()).toContain("big.gguf.download");
        expect(fs.existsSync(storeFile("big.gguf"))).toBe(false);
        server.throttleBytesPerSecond = 0;
        const resumed = await runCli(["pull", "instruct:Q8_0"], {env: env()});
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(resumed.stderr).toMatch(/resuming at/);
        expectVerified(storeFile("big.gguf"), big);
    });

    it("shows a progress bar with size, speed and ETA on a terminal, and a plain line in a pipe", async () => {
        server.throttleBytesPerSecond = 1024 * 1024;
        const terminal = runInPty(["pull", "instruct:Q8_0"], {env: env()});
        await terminal.expect(/Downloading\s.*\d+%.*MB \/ 41\.9 MB, [\d.]+ [kM]B\/s, ETA \d+/, 30_000);
        terminal.write("\x03");
        // The bar is taken down and the way on is said: the same command resumes.
        await terminal.expect(/error: Download interrupted; the bytes received so far are kept\.\s+hint: Run the same command again to resume where it stopped\./);
        expect(await terminal.exit()).toBe(130);
        server.throttleBytesPerSecond = 4 * 1024 * 1024;
        const piped = await runCli(["pull", "instruct:Q8_0"], {env: env()});
        expect(piped.code, piped.stderr).toBe(0);
        expect(piped.stderr).toMatch(/^Downloading \d+% [\d.]+ MB \/ 41\.9 MB/m);
        expect(piped.stderr).not.toContain("\u001b[");
    });

    it("uses the server's X-Linked-Etag sha256 when the catalog has none, and says what it checked against what", async () => {
        const pull = await runCli(["pull", "Q4_0", "--json"], {env: env()});
        expect(pull.code, pull.stderr).toBe(0);
        expect(JSON.parse(pull.stdout)).toMatchObject({name: "instruct:Q4_0", sha256: sha256Of(tiny), bytes: tiny.length, alreadyPresent: false,
            verified: {sha256: "server", size: "catalog"}});
        expect(pull.stderr).toMatch(/instruct:Q4_0 downloaded and verified: sha256 [0-9a-f]{64} matches the one the server published, and its 547 kB are the catalog's exact size\./);
    });

    it("refuses a file whose size is not the catalog's exact size when the catalog has no sha256, before downloading it", async () => {
        const rangedBefore = server.rangedBytesSent;
        const pull = await runCli(["pull", "instruct:Q5_K_M"], {env: env()});
        expect(pull.code).toBe(1);
        expect(pull.stderr).toMatch(/^error: The server offers wrong-size\.gguf as 547 kB \([\d,]+ bytes\), but the catalog says instruct:Q5_K_M is exactly 26\.4 GB \(26,441,533,376 bytes\); nothing was downloaded\./m);
        expect(pull.stderr).not.toMatch(/verified/);
        expect(server.rangedBytesSent).toBe(rangedBefore);
        expect(fs.existsSync(storeFile("wrong-size.gguf"))).toBe(false);
        expect(partialFiles().filter((file) => !file.endsWith(".lock"))).toEqual([]);
    });

    it("refuses, without retrying, a file the probe gave no size for when the transfer shows it is not the catalog's size", async () => {
        server.fault = "noSizeInProbe";
        const pull = await runCli(["pull", "instruct:Q5_K_M"], {env: env({MIXTRAL_FREE_BYTES: String(1e14)}), timeoutMs: 20_000});
        expect(pull.code).toBe(1);
        expect(pull.stderr).toMatch(/^error: The server sends a file of 547 kB \([\d,]+ bytes\) where 26\.4 GB \(26,441,533,376 bytes\) were expected; nothing was kept\./m);
        expect(pull.stderr).not.toMatch(/retrying/);
        expect(fs.existsSync(storeFile("wrong-size.gguf"))).toBe(false);
        expect(partialFiles().filter((file) => !file.endsWith(".lock"))).toEqual([]);
    });

    it("says a file checked by size only was not verified by any sha256", async () => {
        const noSha = await startFakeHuggingFace([{repo, file: "tiny-q8_0.gguf", data: tiny}], {sendSha: false});
        try {
            const pull = await runCli(["pull", `hf:${repo}/tiny-q8_0.gguf`], {env: env({HF_ENDPOINT: noSha.url})});
            expect(pull.code, pull.stderr).toBe(0);
            expect(pull.stderr).toMatch(/tiny-q8_0\.gguf downloaded; checked by size only \(no sha256 to compare with\): its 547 kB are the size the server announced\./);
            expect(pull.stderr).not.toMatch(/verified:/);
        } finally {
            await noSha.stop();
        }
    });

    it("pulls an hf:<owner>/<repo>/<file>.gguf name into the store, verified by the server's sha256", async () => {
        const name = `hf:${repo}/tiny-q8_0.gguf`;
        const pull = await runCli(["pull", name], {env: env()});
        expect(pull.code, pull.stderr).toBe(0);
        const stored = path.join(work, "store", "hf", "mixtral-test", "tiny-GGUF", "@main", "tiny-q8_0.gguf");
        expect(pull.stdout.trim()).toBe(stored);
        expectVerified(stored, tiny);
        const located = await runCli(["models", "path", name], {env: env()});
        expect(located.stdout.trim()).toBe(stored);
    });

    it("retries after a 500 and ends with the verified file", async () => {
        server.fault = "error500";
        const pull = await runCli(["pull", "instruct:Q4_K_M"], {env: env()});
        expect(pull.code, pull.stderr).toBe(0);
        expect(pull.stderr).toMatch(/retrying/);
        expectVerified(storeFile("tiny-q8_0.gguf"), tiny);
    });

    it("recovers from a connection cut at 40% and ends verified", async () => {
        server.fault = "cut";
        const firedBefore = server.faultsFired;
        const pull = await runCli(["pull", "instruct:Q8_0"], {env: env()});
        expect(pull.code, pull.stderr).toBe(0);
        expect(server.faultsFired).toBe(firedBefore + 1);
        expectVerified(storeFile("big.gguf"), big);
    });

    it("abandons a stalled transfer after the stall timeout and resumes it", async () => {
        server.fault = "stall";
        const pull = await runCli(["pull", "instruct:Q4_K_M"], {env: env()});
        expect(pull.code, pull.stderr).toBe(0);
        expect(pull.stderr).toMatch(/Transfer trouble \(no data for 2 s\); retrying/);
        expectVerified(storeFile("tiny-q8_0.gguf"), tiny);
    });

    it("gives up on a server that always stalls, keeps the partial bytes and leaves no usable file", async () => {
        server.fault = "stallAlways";
        const pull = await runCli(["pull", "instruct:Q8_0"], {env: env({MIXTRAL_DOWNLOAD_ATTEMPTS: "2", MIXTRAL_DOWNLOAD_STALL_MS: "1000"})});
        expect(pull.code).toBe(1);
        expect(pull.stderr).toMatch(/error: The download failed after 2 attempts: no data for 1 s/);
        expect(fs.existsSync(storeFile("big.gguf"))).toBe(false);
        expect(partialFiles()).toContain("big.gguf.download");
    });

    it("deletes corrupt bytes, says the checksum did not match, and exits non-zero", async () => {
        await expectRefusedPull("corrupt", /error: Checksum mismatch for tiny-q8_0\.gguf: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}\. The corrupt download was deleted\./);
    });

    it("reports a 404 in one sentence and writes nothing", async () => {
        await expectRefusedPull("notFound", /error: No such file on the server: .*tiny-q8_0\.gguf \(404\)\./);
    });

    it("refuses an HTML error page instead of saving it as a model", async () => {
        await expectRefusedPull("html", /error: The server sent a web page instead of the model file/);
    });

    it("resumes a killed pull without fetching the bytes already on disk again", async () => {
        server.throttleBytesPerSecond = 4 * 1024 * 1024;
        const sentBefore = server.bodyBytesSent;
        const first = await runCli(["pull", "instruct:Q8_0"], {
            env: env(),
            onSpawn: (child) => {
                const timer = setInterval(() => {
                    if (server.bodyBytesSent - sentBefore > big.length * 0.6) {
                        clearInterval(timer);
                        child.kill("SIGKILL");
                    }
                }, 20);
                child.on("close", () => clearInterval(timer));
            }
        });
        expect(first.signal).toBe("SIGKILL");
        expect(fs.existsSync(storeFile("big.gguf"))).toBe(false);
        server.throttleBytesPerSecond = 0;
        const rangedAtResume = server.rangedBytesSent;
        const second = await runCli(["pull", "instruct:Q8_0"], {env: env()});
        expect(second.code, second.stderr).toBe(0);
        const resumedAt = /resuming at ([\d.]+) MB/.exec(second.stderr);
        expect(resumedAt, second.stderr).not.toBeNull();
        // Whole 5 MiB chunks survive a kill; what the server sends again is the rest, not the start.
        expect(Number(resumedAt?.[1])).toBeGreaterThanOrEqual(5.2);
        expectVerified(storeFile("big.gguf"), big);
        // The bytes fetched again are exactly those not already on disk (the number printed is rounded to 0.1 MB).
        expect(server.rangedBytesSent - rangedAtResume).toBeLessThanOrEqual(big.length - Number(resumedAt?.[1]) * 1e6 + 0.05e6);
    });

    it("lets a second pull of the same file wait for the first; both end with the file ready", async () => {
        server.throttleBytesPerSecond = 256 * 1024;
        const first = runCli(["pull", "instruct:Q4_K_M"], {env: env()});
        await new Promise((resolve) => setTimeout(resolve, 600));
        const second = await runCli(["pull", "instruct:Q4_K_M"], {env: env()});
        const firstResult = await first;
        expect(firstResult.code, firstResult.stderr).toBe(0);
        expect(second.code, second.stderr).toBe(0);
        expect(second.stderr).toMatch(/is downloading instruct:Q4_K_M; waiting/);
        expect(second.stdout).toBe(firstResult.stdout);
        expectVerified(storeFile("tiny-q8_0.gguf"), tiny);
    });

    it("reuses a verified copy from the Hugging Face cache instead of downloading", async () => {
        const snapshot = path.join(work, ".cache", "huggingface", "hub", "models--mixtral-test--tiny-GGUF", "snapshots", "0123abc");
        fs.mkdirSync(snapshot, {recursive: true});
        fs.writeFileSync(path.join(snapshot, "tiny-q8_0.gguf"), tiny);
        const requestsBefore = server.requests.length;
        const pull = await runCli(["pull", "instruct:Q4_K_M"], {env: env()});
        expect(pull.code, pull.stderr).toBe(0);
        expect(pull.stderr).toMatch(/Found instruct:Q4_K_M in the Hugging Face cache/);
        expect(server.requests.length).toBe(requestsBefore);
        expectVerified(storeFile("tiny-q8_0.gguf"), tiny);
    });

    it("does not trust a cached copy whose bytes do not match", async () => {
        const snapshot = path.join(work, ".lmstudio", "models", "mixtral-test", "tiny-GGUF");
        fs.mkdirSync(snapshot, {recursive: true});
        fs.writeFileSync(path.join(snapshot, "tiny-q8_0.gguf"), Buffer.concat([tiny.subarray(0, 100), Buffer.alloc(tiny.length - 100)]));
        const pull = await runCli(["pull", "instruct:Q4_K_M"], {env: env()});
        expect(pull.code, pull.stderr).toBe(0);
        expect(pull.stderr).toMatch(/Downloading instruct:Q4_K_M/);
        expectVerified(storeFile("tiny-q8_0.gguf"), tiny);
    });

    it("fails before downloading when the disk is too small", async () => {
        const pull = await runCli(["pull", "instruct:Q4_K_M"], {env: env({MIXTRAL_FREE_BYTES: "1000"})});
        expect(pull.code).toBe(1);
        expect(pull.stderr).toMatch(/error: Not enough disk space in .*: the download needs .* and 1\.00 kB is free\./);
        expect(partialFiles().filter((file) => !file.endsWith(".lock") && !file.endsWith(".json"))).toEqual([]);
    });

    it("refuses plain http to hosts other than HF_ENDPOINT", async () => {
        const pull = await runCli(["pull", "http://example.invalid/m/model.gguf"], {env: env()});
        expect(pull.code).toBe(1);
        expect(pull.stderr).toMatch(/error: Refusing to download over http/);
    });

    it("without a TTY, complete with a model that is not downloaded names the pull command and fetches nothing", async () => {
        const requestsBefore = server.requests.length;
        const refused = await runCli(["complete", "--model", "instruct:Q4_K_M", "-n", "2", "hi"], {env: env()});
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/error: instruct:Q4_K_M is not downloaded\.\nhint: Run: mixtral pull instruct:Q4_K_M/);
        expect(server.requests.length).toBe(requestsBefore);
        expect(fs.existsSync(storeFile("tiny-q8_0.gguf"))).toBe(false);
    });

    it("complete --yes pulls a missing catalog model first, then answers", async () => {
        const agreed = await runCli(["complete", "--model", "instruct:Q4_K_M", "--yes", "-n", "2", "--temperature", "0", "hi"], {env: env()});
        expect(agreed.code, agreed.stderr).toBe(0);
        expect(agreed.stderr).toMatch(/instruct:Q4_K_M downloaded and verified/);
        expect(agreed.stdout.length).toBeGreaterThan(0);
        expectVerified(storeFile("tiny-q8_0.gguf"), tiny);
    });

    it("on a terminal, complete asks before downloading: no leaves nothing, yes pulls and answers", async () => {
        const declined = runInPty(["complete", "--model", "Q4_K_M", "-n", "2", "hi"], {env: env()});
        await declined.expect(/instruct:Q4_K_M is not downloaded\. Download it now \(547 kB\)\? \[y\/N\]/);
        declined.write("n\r");
        await declined.expect(/error: instruct:Q4_K_M is not downloaded\.\s+hint: Run: mixtral pull instruct:Q4_K_M/);
        expect(await declined.exit()).toBe(1);
        expect(fs.existsSync(storeFile("tiny-q8_0.gguf"))).toBe(false);
        const accepted = runInPty(["complete", "--model", "Q4_K_M", "-n", "2", "--temperature", "0", "hi"], {env: env()});
        await accepted.expect(/Download it now .*\[y\/N\]/);
        accepted.write("y\r");
        await accepted.expect(/downloaded and verified/);
        expect(await accepted.exit()).toBe(0);
        expectVerified(storeFile("tiny-q8_0.gguf"), tiny);
    });

    it("on a terminal, Ctrl+C at the download question exits 130 and fetches nothing", async () => {
        const interrupted = runInPty(["complete", "--model", "Q4_K_M", "-n", "2", "hi"], {env: env()});
        await interrupted.expect(/Download it now .*\[y\/N\]/);
        interrupted.write("\x03");
        expect(await interrupted.exit()).toBe(130);
        expect(fs.existsSync(storeFile("tiny-q8_0.gguf"))).toBe(false);
    });
});
