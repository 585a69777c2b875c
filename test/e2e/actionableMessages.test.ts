import {spawn, spawnSync} from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type {AddressInfo} from "node:net";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {startFakeHuggingFace, type FakeHuggingFace} from "./helpers/fakeHuggingFace.js";
import {cliPath, repoRoot, tinyModel, type CliResult} from "./helpers/runCli.js";

/**
 * Mistakes in the user's environment each get one sentence that says what to fix, never
 * "unexpected failure … a bug in mixtral" and never a stack trace.
 */
const asRoot = process.getuid?.() === 0;
// Permission cases need a user whom permissions bind: root reads everything, so tests run those as nobody.
const nobody = asRoot ? {uid: 65534, gid: 65534} : {};

let work: string;
/** The checkout `nobody` runs (see nobodysCheckout); undefined: the permission cases are skipped, with the reason printed. */
let nobodysRoot: string | undefined;
let server: FakeHuggingFace;
let badRedirect: http.Server;
let badRedirectUrl: string;

beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-messages-"));
    fs.chmodSync(work, 0o755);
    nobodysRoot = asRoot ? nobodysCheckout(work) : repoRoot;
    server = await startFakeHuggingFace([{repo: "o/r", file: "x.gguf", data: fs.readFileSync(tinyModel())}]);
    badRedirect = http.createServer((_request, response) => response.writeHead(302, {location: "http://[::1"}).end());
    await new Promise<void>((resolve) => badRedirect.listen(0, "127.0.0.1", resolve));
    badRedirectUrl = `http://127.0.0.1:${(badRedirect.address() as AddressInfo).port}`;
});

afterAll(async () => {
    await server.stop();
    await new Promise((resolve) => badRedirect.close(resolve));
    fs.rmSync(work, {recursive: true, force: true});
});

/**
 * A clone inside a folder only its owner can read (root's 0700 home, where CI clones) is out of
 * nobody's reach: the CLI it runs is then a hard-linked copy of the built checkout (bin, dist,
 * node_modules) in the test's own folder. Undefined, with the reason printed, when even that fails
 * (another file system) or node itself is out of reach.
 */
function nobodysCheckout(folder: string): string | undefined {
    const canRead = (file: string) => spawnSync(process.execPath, ["-e", `require("fs").accessSync(${JSON.stringify(file)}, 4)`], {...nobody, stdio: "ignore"}).status === 0;
    if (canRead(cliPath) && canRead(path.join(repoRoot, "dist"))) return repoRoot;
    const copy = path.join(folder, "checkout");
    fs.mkdirSync(copy, {mode: 0o755});
    const linked = spawnSync("cp", ["-al", ...["bin", "dist", "node_modules", "package.json", "models.json"].map((name) => path.join(repoRoot, name)), copy], {stdio: "ignore"});
    if (linked.status === 0 && canRead(path.join(copy, "bin", "mixtral.js"))) return copy;
    console.warn(`skipping the permission cases: user nobody cannot read ${repoRoot}, and a hard-linked copy in ${copy} failed`);
    return undefined;
}

function run(args: string[], env: Record<string, string | undefined> = {}, user: {uid?: number, gid?: number} = {}): Promise<CliResult> {
    const root = user.uid == null ? repoRoot : nobodysRoot!;
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(root, "bin", "mixtral.js"), ...args], {
            cwd: root,
            env: {...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, MIXTRAL_THREADS: "1", HOME: work, XDG_CACHE_HOME: undefined,
                MIXTRAL_MODELS: path.join(work, "store"), MIXTRAL_DOWNLOAD_RETRY_MS: "50", MIXTRAL_DOWNLOAD_ATTEMPTS: "2", ...env},
            stdio: ["ignore", "pipe", "pipe"],
            ...user
        });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => { stdout += chunk; });
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
        const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
        child.on("error", reject);
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({code, signal, stdout, stderr});
        });
    });
}

function expectOneSentence(result: CliResult, code: number, message: RegExp) {
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/unexpected failure|bug in mixtral/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toMatch(/retrying/);
}

describe("one sentence that says what to fix", () => {
    it("an HF_ENDPOINT that is not an http(s) URL", async () => {
        for (const endpoint of ["not a url", "ftp://mirror.example"])
            expectOneSentence(await run(["pull", "hf:o/r/x.gguf"], {HF_ENDPOINT: endpoint}), 1, /^error: HF_ENDPOINT is not an http\(s\) URL/m);
    });

    it("a redirect whose Location is not a URL", async () => {
        expectOneSentence(await run(["pull", "hf:o/r/x.gguf"], {HF_ENDPOINT: badRedirectUrl}), 1, /^error: The server at http:\/\/127\.0\.0\.1:\d+ redirected to an invalid address/m);
    });

    it("a URL file name with %00, bad percent-encoding or over 255 bytes", async () => {
        expectOneSentence(await run(["pull", "https://example.com/x%00.gguf"]), 2, /^error: The file name in the URL .* contains a control character/m);
        expectOneSentence(await run(["pull", "https://example.com/x%E0%A4%A.gguf"]), 2, /^error: The file name "x%E0%A4%A\.gguf" in the URL .* has invalid percent-encoding/m);
        expectOneSentence(await run(["pull", `https://example.com/${"a".repeat(300)}.gguf`]), 2, /^error: The file name in the URL .* is 305 bytes long; the store keeps names of up to 246 bytes/m);
    });

    it("a read-only store, and a missing store whose parent is read-only", async (context) => {
        if (nobodysRoot === undefined) context.skip();
        const readOnly = path.join(work, "read-only-store");
        fs.mkdirSync(readOnly, {mode: 0o555});
        fs.chmodSync(readOnly, 0o555);
        expectOneSentence(await run(["pull", "hf:o/r/x.gguf"], {HF_ENDPOINT: server.url, MIXTRAL_MODELS: readOnly}, nobody), 1,
            /^error: Cannot write to MIXTRAL_MODELS \(.*read-only-store\): permission denied/m);
        expectOneSentence(await run(["pull", "hf:o/r/x.gguf"], {HF_ENDPOINT: server.url, MIXTRAL_MODELS: path.join(readOnly, "missing", "store")}, nobody), 1,
            /^error: Cannot write to MIXTRAL_MODELS \(.*missing\/store\): permission denied/m);
    });

    it("a store folder that refuses only the final move keeps the verified file and finishes it on the next run", async (context) => {
        if (nobodysRoot === undefined) context.skip();
        // .partial/ (a symlink) is writable, the store folder itself is not: only the final rename fails.
        const store = path.join(work, "locked-store");
        const partial = path.join(work, "writable-partial");
        fs.mkdirSync(store);
        fs.mkdirSync(partial, {mode: 0o777});
        fs.chmodSync(partial, 0o777);
        fs.symlinkSync(partial, path.join(store, ".partial"));
        fs.chmodSync(store, 0o555);
        const refused = await run(["pull", "hf:o/r/x.gguf"], {HF_ENDPOINT: server.url, MIXTRAL_MODELS: store}, nobody);
        expectOneSentence(refused, 1, /^error: Cannot write to MIXTRAL_MODELS \(.*locked-store\): permission denied .*; the verified download is kept in \.partial\/\./m);
        expect(refused.stderr).toMatch(/^hint: .*moves it into place without downloading it again\./m);
        const bodyBytes = server.rangedBytesSent;
        fs.chmodSync(store, 0o777);
        const finished = await run(["pull", "hf:o/r/x.gguf"], {HF_ENDPOINT: server.url, MIXTRAL_MODELS: store}, nobody);
        expect(finished.code, finished.stderr).toBe(0);
        expect(server.rangedBytesSent).toBe(bodyBytes);
        expect(fs.readFileSync(finished.stdout.trim()).equals(fs.readFileSync(tinyModel()))).toBe(true);
        expect(fs.readdirSync(partial, {recursive: true}).map(String).filter((name) => name.endsWith(".gguf"))).toEqual([]);
    });

    it("MIXTRAL_MODELS pointing at a file", async () => {
        const file = path.join(work, "a-file");
        fs.writeFileSync(file, "");
        for (const args of [["models"], ["pull", "hf:o/r/x.gguf"], ["models", "rm", "Q4_K_M"], ["models", "path", "Q4_K_M"]])
            expectOneSentence(await run(args, {HF_ENDPOINT: server.url, MIXTRAL_MODELS: file}), 1, /^error: MIXTRAL_MODELS \(.*a-file\) is a file, not a folder\./m);
    });

    it("models rm of a folder", async () => {
        const store = path.join(work, "store-with-folder");
        fs.mkdirSync(path.join(store, "hf"), {recursive: true});
        expectOneSentence(await run(["models", "rm", "hf"], {MIXTRAL_MODELS: store}), 2, /^error: hf is a folder, not a model file; nothing removed\./m);
        expect(fs.existsSync(path.join(store, "hf"))).toBe(true);
    });

    it("a model file without read permission", async (context) => {
        if (nobodysRoot === undefined) context.skip();
        const model = path.join(work, "secret.gguf");
        fs.copyFileSync(tinyModel(), model);
        fs.chmodSync(model, 0o200);
        expectOneSentence(await run(["complete", "-m", model, "-n", "1", "hi"], {}, nobody), 1, /^error: Cannot read .*secret\.gguf: permission denied\./m);
    });

    it("an HF_TOKEN with a trailing CR/LF names the variable", async () => {
        expectOneSentence(await run(["pull", "hf:o/r/x.gguf"], {HF_ENDPOINT: server.url, HF_TOKEN: "hf_abcdef\r\n"}), 1, /^error: HF_TOKEN contains a line break/m);
    });

    it("never leaves a verified file in .partial/ when .partial is on another file system", async () => {
        const store = path.join(work, "split-store");
        fs.mkdirSync(store);
        const elsewhere = fs.mkdtempSync(path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "mixtral-partial-"));
        try {
            fs.symlinkSync(elsewhere, path.join(store, ".partial"));
            const pull = await run(["pull", "hf:o/r/x.gguf"], {HF_ENDPOINT: server.url, MIXTRAL_MODELS: store});
            expect(pull.code, pull.stderr).toBe(0);
            expect(fs.readFileSync(pull.stdout.trim()).equals(fs.readFileSync(tinyModel()))).toBe(true);
            const left = fs.readdirSync(elsewhere, {recursive: true}).map(String).filter((name) => name.endsWith(".gguf"));
            expect(left).toEqual([]);
        } finally {
            fs.rmSync(elsewhere, {recursive: true, force: true});
        }
    });
});

describe("odd files as --model (item 15)", () => {
    it("a FIFO, /dev/zero and a file cut at 100 bytes each get the right message", async () => {
        const fifo = path.join(work, "model.fifo");
        const made = await new Promise<boolean>((resolve) => spawn("mkfifo", [fifo]).on("close", (code) => resolve(code === 0)).on("error", () => resolve(false)));
        if (made) expectOneSentence(await run(["complete", "-m", fifo, "hi"]), 1, /^error: .*model\.fifo is a named pipe \(FIFO\), not a GGUF model file on disk\./m);
        expectOneSentence(await run(["complete", "-m", "/dev/zero", "hi"]), 1, /^error: \/dev\/zero is a character device, not a GGUF model file on disk\./m);
        const cut = path.join(work, "cut.gguf");
        fs.writeFileSync(cut, fs.readFileSync(tinyModel()).subarray(0, 100));
        expectOneSentence(await run(["complete", "-m", cut, "hi"]), 1, /^error: .*cut\.gguf has a damaged or truncated GGUF header[.:]/m);
    });
});
