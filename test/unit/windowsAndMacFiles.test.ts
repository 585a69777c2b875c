import fs from "node:fs";
import fsPromises from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterEach, beforeEach, describe, expect, test, vi} from "vitest";
import type {CatalogEntry} from "../../src/models/catalog.js";
import {pullModel} from "../../src/models/download.js";
import {placeExistingCopy, realFileCalls, renameInStore, type FileCalls} from "../../src/models/fileOperations.js";
import {acquireLock} from "../../src/models/lockFile.js";
import {realIdentityProbe, type IdentityProbe} from "../../src/processIdentity.js";
import {removeFromStore, stagingFilesFor} from "../../src/models/store.js";
import {sha256Of, startFakeHuggingFace} from "../e2e/helpers/fakeHuggingFace.js";

// What Windows and macOS do differently from Linux, answered by injected calls on this Linux machine.

let dir: string;
beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-platform-files-"));
});
afterEach(() => {
    vi.restoreAllMocks();
    fs.rmSync(dir, {recursive: true, force: true});
});

function errno(code: string): NodeJS.ErrnoException {
    return Object.assign(new Error(`${code}: simulated`), {code});
}

describe("Windows: a download's last step", () => {
    test("the verified file is fsynced through a writable handle (Windows refuses FlushFileBuffers on a read-only one)", async () => {
        const data = Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(60_000, 7)]);
        const repo = "someone/tiny";
        const server = await startFakeHuggingFace([{repo, file: "tiny.gguf", data}]);
        // As Windows answers: sync() on a handle opened without write access fails with EPERM.
        const open = fsPromises.open;
        const synced: string[] = [];
        vi.spyOn(fsPromises, "open").mockImplementation(async (file, flags, mode) => {
            const handle = await open(file, flags, mode);
            const writable = typeof flags === "string" && /[wa+]/.test(flags);
            const sync = handle.sync.bind(handle);
            handle.sync = async () => {
                if (!writable) throw Object.assign(errno("EPERM"), {path: String(file)});
                synced.push(String(file));
                return sync();
            };
            return handle;
        });
        try {
            const entry = {name: "instruct:Q8_0", variant: "instruct", quant: "Q8_0", repo, file: "tiny.gguf", bytes: data.length, bytesExact: true, bitsPerWeight: 8.5, sha256: sha256Of(data)} satisfies CatalogEntry;
            const env = {HF_ENDPOINT: server.url, MIXTRAL_MODELS: path.join(dir, "store"), HOME: dir, MIXTRAL_DOWNLOAD_RETRY_MS: "1"};
            const result = await pullModel({kind: "catalog", entry}, {env, reuse: false});
            expect(fs.readFileSync(result.path).equals(data)).toBe(true);
            expect(synced).toContain(stagingFilesFor(result.path, path.join(dir, "store")).complete);
        } finally {
            await server.stop();
        }
    });
});

describe("reusing another tool's copy", () => {
    const calls = (overrides: Partial<FileCalls>): FileCalls => ({...realFileCalls, ...overrides});

    test("without hard links or symlinks (Windows without Developer Mode, exFAT) the copy is copied, not an abort", async () => {
        const source = path.join(dir, "other-drive.gguf");
        fs.writeFileSync(source, "GGUF model bytes");
        const target = path.join(dir, "store", "model.gguf");
        fs.mkdirSync(path.dirname(target));
        const placement = await placeExistingCopy(source, target, {
            calls: calls({link: async () => { throw errno("EXDEV"); }, symlink: async () => { throw errno("EPERM"); }})
        });
        expect(placement).toBe("copy");
        expect(fs.readFileSync(target, "utf8")).toBe("GGUF model bytes");
        expect(fs.readdirSync(path.dirname(target))).toEqual(["model.gguf"]);
    });

    test("across disks where symlinks work, a symlink", async () => {
        const source = path.join(dir, "other-drive.gguf");
        fs.writeFileSync(source, "GGUF");
        const target = path.join(dir, "model.gguf");
        expect(await placeExistingCopy(source, target, {calls: calls({link: async () => { throw errno("EXDEV"); }})})).toBe("symlink");
        expect(fs.lstatSync(target).isSymbolicLink()).toBe(true);
    });
});

describe("Windows: a file another program holds for a moment", () => {
    test("a rename answered EBUSY (an antivirus scanning the new file) is retried until it goes through", async () => {
        const from = path.join(dir, "a");
        fs.writeFileSync(from, "x");
        let refusals = 2;
        const rename = async (a: string, b: string) => {
            if (refusals-- > 0) throw errno("EBUSY");
            await fsPromises.rename(a, b);
        };
        await renameInStore(from, path.join(dir, "b"), {platform: "win32", calls: {rename}});
        expect(fs.existsSync(path.join(dir, "b"))).toBe(true);
    });

    test("on Linux the same error is final at once", async () => {
        await expect(renameInStore("a", "b", {platform: "linux", calls: {rename: async () => { throw errno("EBUSY"); }}})).rejects.toThrow(/EBUSY/);
    });

    test("`models rm` of a file a running serve has open says so in a sentence", async () => {
        const store = path.join(dir, "store");
        const model = path.join(store, "m.gguf");
        fs.mkdirSync(store);
        fs.writeFileSync(model, "GGUF");
        vi.spyOn(fsPromises, "rm").mockImplementation(async (file) => {
            if (String(file) === model) throw errno("EBUSY");
        });
        await expect(removeFromStore(model, store, "win32")).rejects.toThrow(/m\.gguf is open in another program/);
    });
});

describe("stale locks off Linux (no /proc)", () => {
    /** A Mac or a Windows PC: ps or PowerShell says when the process with a PID started. */
    function probeOf(platform: NodeJS.Platform, startOfPid: (pid: number) => string | undefined): IdentityProbe {
        return {
            ...realIdentityProbe,
            platform,
            readFile: () => undefined,
            run: (command, args) => {
                const pid = Number(platform === "win32" ? /-Id (\d+)/.exec(args.join(" "))?.[1] : args.at(-1));
                expect(command).toBe(platform === "win32" ? "powershell.exe" : "ps");
                return startOfPid(pid);
            }
        };
    }
    /** Tries to take the lock for `ms`; true when it was taken. */
    async function takenWithin(lockPath: string, ms: number, identity: IdentityProbe): Promise<boolean> {
        try {
            const lock = await acquireLock(lockPath, {signal: AbortSignal.timeout(ms), pollMs: 20, identity});
            await lock.release();
            return true;
        } catch {
            return false;
        }
    }
    const holderStarted = Date.parse("2026-12-01T10:00:00Z");
    /** As `ps -o lstart=` prints a start (local time, whole seconds) and as PowerShell's ToString('o') does. */
    const printed = (platform: NodeJS.Platform, date: Date) => {
        if (platform === "win32") return date.toISOString();
        const [weekday, month, day, year, time] = date.toString().split(" ");
        return `${weekday} ${month} ${String(Number(day)).padStart(2)} ${time} ${year}\n`;
    };

    test.each(["darwin", "win32"] as const)("%s: a lock whose PID now belongs to a process started later is taken over", async (platform) => {
        const lockPath = path.join(dir, "x.lock");
        // The PID is alive (it is this test's own), but the OS says it started an hour after the holder did.
        fs.writeFileSync(lockPath, JSON.stringify({pid: process.pid, host: os.hostname(), startedAt: holderStarted}));
        const later = new Date(holderStarted + 3_600_000);
        const probe = probeOf(platform, () => printed(platform, later));
        expect(await takenWithin(lockPath, 3000, probe)).toBe(true);
    });

    test.each(["darwin", "win32"] as const)("%s: a lock held by the very process it names is respected", async (platform) => {
        const lockPath = path.join(dir, "x.lock");
        fs.writeFileSync(lockPath, JSON.stringify({pid: process.pid, host: os.hostname(), startedAt: holderStarted}));
        // ps prints whole seconds: 400 ms off is still the same process.
        const same = new Date(holderStarted + 400);
        const probe = probeOf(platform, () => printed(platform, same));
        expect(await takenWithin(lockPath, 400, probe)).toBe(false);
    });

    test("a lock written on a Mac records the start of its process without running anything", async () => {
        const lockPath = path.join(dir, "x.lock");
        const probe: IdentityProbe = {...realIdentityProbe, platform: "darwin", now: () => 1_000_000, uptimeSeconds: () => 12.5, run: () => { throw new Error("nothing is run for our own identity"); }};
        const lock = await acquireLock(lockPath, {identity: probe});
        const written = JSON.parse(fs.readFileSync(lockPath, "utf8"));
        await lock.release();
        expect(written).toMatchObject({pid: process.pid, startedAt: 987_500});
    });
});

describe("names Windows cannot store", () => {
    test.each(["a:b.gguf", "what?.gguf", "nul.gguf", "COM1", "model.gguf."])("%s is refused on Windows in one sentence", async (name) => {
        const {assertStorableName} = await import("../../src/models/storableFileName.js");
        expect(() => assertStorableName(name, "the URL", "win32")).toThrow(/is not allowed on Windows/);
        expect(() => assertStorableName(name, "the URL", "linux")).not.toThrow();
    });
});

test("macOS: a full disk's hint says how to release APFS's purgeable space, which statfs does not count", async () => {
    const {assertFreeSpace} = await import("../../src/models/diskSpace.js");
    const env = {MIXTRAL_FREE_BYTES: "1000"};
    await expect(assertFreeSpace(dir, 10 ** 9, env, "darwin")).rejects.toMatchObject({hint: expect.stringMatching(/tmutil thinlocalsnapshots/)});
    await expect(assertFreeSpace(dir, 10 ** 9, env, "linux")).rejects.toMatchObject({hint: expect.not.stringMatching(/tmutil/)});
});

test("Windows: a pull into a store whose paths pass 259 characters is refused before downloading, naming MIXTRAL_MODELS", async () => {
    const entry = {name: "instruct:Q8_0", variant: "instruct", quant: "Q8_0", repo: "a/b", file: "model.gguf", bytes: 10, bytesExact: true, bitsPerWeight: 8.5, sha256: null} satisfies CatalogEntry;
    const deep = path.join(dir, "x".repeat(240));
    await expect(pullModel({kind: "catalog", entry}, {env: {MIXTRAL_MODELS: deep, HF_ENDPOINT: "http://127.0.0.1:9"}, platform: "win32", reuse: false}))
        .rejects.toMatchObject({message: expect.stringMatching(/more than the 259 Windows programs can open/), hint: expect.stringMatching(/MIXTRAL_MODELS/)});
});
