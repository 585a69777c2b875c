import {createHash, randomBytes} from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type {AddressInfo} from "node:net";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, beforeEach, describe, expect, it} from "vitest";
import {runCli} from "./helpers/runCli.js";

/**
 * Offline and flaky-network behaviour of `pull`, against a small server on 127.0.0.1 that can
 * answer 503 with Retry-After and cut every transfer after a slice of the file.
 */
const data = Buffer.concat([Buffer.from("GGUF"), randomBytes(1024 * 1024 - 4)]);
const sha256 = createHash("sha256").update(data).digest("hex");

type Behaviour = {busyHeads: number, busyGets: number, retryAfter: string, sliceBytes: number};
let behaviour: Behaviour;
let requests: {method: string, at: number}[];
let server: http.Server;
let endpoint: string;
let work: string;

beforeAll(async () => {
    server = http.createServer((request, response) => {
        requests.push({method: request.method ?? "", at: Date.now()});
        if (request.url !== "/o/r/resolve/main/x.gguf") {
            response.writeHead(404).end();
            return;
        }
        if ((request.method === "HEAD" && behaviour.busyHeads-- > 0) || (request.method === "GET" && behaviour.busyGets-- > 0)) {
            response.writeHead(503, {"retry-after": behaviour.retryAfter, "content-type": "text/plain"}).end("busy");
            return;
        }
        const start = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? "")?.[1] ?? 0);
        const headers = {"content-type": "application/octet-stream", "accept-ranges": "bytes", "x-linked-etag": `"${sha256}"`, etag: `"${sha256}"`};
        if (request.method === "HEAD") {
            response.writeHead(200, {...headers, "content-length": String(data.length)}).end();
            return;
        }
        response.writeHead(request.headers.range != null ? 206 : 200, {
            ...headers,
            "content-length": String(data.length - start),
            ...(request.headers.range != null ? {"content-range": `bytes ${start}-${data.length - 1}/${data.length}`} : {})
        });
        const end = Math.min(data.length, start + behaviour.sliceBytes);
        // A flaky link: a slice of the file, then the connection drops (unless the slice reaches the end).
        response.write(data.subarray(start, end), () => {
            if (end < data.length) response.socket?.destroy();
            else response.end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
    behaviour = {busyHeads: 0, busyGets: 0, retryAfter: "0", sliceBytes: data.length};
    requests = [];
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-retries-"));
});

const env = (extra: Record<string, string> = {}) => ({
    HF_ENDPOINT: endpoint, MIXTRAL_MODELS: path.join(work, "store"), HOME: work, XDG_CACHE_HOME: undefined, MIXTRAL_DOWNLOAD_RETRY_MS: "50", ...extra
});

describe("pull on a flaky or missing network", () => {
    it("fails at once, without retrying, when the host name does not resolve", async () => {
        const pull = await runCli(["pull", "hf:o/r/x.gguf"], {env: {...env(), HF_ENDPOINT: "http://mirror.invalid", MIXTRAL_DOWNLOAD_RETRY_MS: "1000"}});
        expect(pull.code, pull.stderr).toBe(1);
        expect(pull.stderr).toMatch(/^error: Cannot find the server mirror\.invalid: its name does not resolve/m);
        expect(pull.stderr).not.toMatch(/retrying/);
    });

    it("counts failures in a row: a transfer cut every 150 KB still completes with a budget of 3 attempts", async () => {
        behaviour.sliceBytes = 150 * 1024;
        const pull = await runCli(["pull", "hf:o/r/x.gguf"], {env: env({MIXTRAL_DOWNLOAD_ATTEMPTS: "3"})});
        expect(pull.code, pull.stderr).toBe(0);
        expect(fs.readFileSync(pull.stdout.trim()).equals(data)).toBe(true);
        expect(requests.filter((request) => request.method === "GET").length).toBeGreaterThan(3);
    });

    it("still gives up after the budget when attempts bring nothing", async () => {
        behaviour.busyGets = 100;
        const pull = await runCli(["pull", "hf:o/r/x.gguf"], {env: env({MIXTRAL_DOWNLOAD_ATTEMPTS: "3"})});
        expect(pull.code, pull.stderr).toBe(1);
        expect(pull.stderr).toMatch(/failed after 3 attempts/);
    });

    it("waits as long as the server's Retry-After says, when probing and when transferring", async () => {
        behaviour.busyHeads = 1;
        behaviour.busyGets = 1;
        behaviour.retryAfter = "2";
        const pull = await runCli(["pull", "hf:o/r/x.gguf"], {env: env()});
        expect(pull.code, pull.stderr).toBe(0);
        const heads = requests.filter((request) => request.method === "HEAD");
        const gets = requests.filter((request) => request.method === "GET");
        // Our own backoff here is 50 ms: only Retry-After explains a wait of two seconds.
        expect(heads[1]!.at - heads[0]!.at).toBeGreaterThanOrEqual(1900);
        expect(gets[1]!.at - gets[0]!.at).toBeGreaterThanOrEqual(1900);
        expect(pull.stderr).toMatch(/retrying in 2\.0 s/);
    });

    it("reports a server that asks to come back in an hour instead of waiting", async () => {
        behaviour.busyHeads = 1;
        behaviour.retryAfter = "3600";
        const pull = await runCli(["pull", "hf:o/r/x.gguf"], {env: env()});
        expect(pull.code, pull.stderr).toBe(1);
        expect(pull.stderr).toMatch(/^error: The download server is busy and asks to come back in 60 minutes\./m);
    });
});

describe("usage errors in doctor", () => {
    it("--vram without a unit", async () => {
        const doctor = await runCli(["doctor", "--gpu", "cuda", "--vram", "24", "--ram", "64GB"]);
        expect(doctor.code).toBe(2);
        expect(doctor.stderr).toMatch(/^error: --vram 24 has no unit\.\nhint: Write 24GB/m);
    });

    it("an unknown --quant", async () => {
        const doctor = await runCli(["doctor", "--quant", "Q9"]);
        expect(doctor.code).toBe(2);
        expect(doctor.stderr).toMatch(/^error: --quant Q9 is not a quant of the catalog\.\nhint: Choose one of: Q2_K, /m);
    });
});
