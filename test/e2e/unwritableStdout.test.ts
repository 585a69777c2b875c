import {spawnSync} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {cliPath, repoRoot, tinyModel} from "./helpers/runCli.js";

/**
 * Every command that prints results fails (exit 1, one sentence on stderr) when stdout cannot be
 * written: `> /dev/full` makes each write fail with ENOSPC.
 */
let store: string;

beforeAll(() => {
    store = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-full-"));
    // A "downloaded" catalog model, so pull and models path have something to print.
    fs.copyFileSync(tinyModel(), path.join(store, "mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf"));
});

afterAll(() => {
    fs.rmSync(store, {recursive: true, force: true});
});

function runToDevFull(args: string[]) {
    const full = fs.openSync("/dev/full", "w");
    try {
        return spawnSync(process.execPath, [cliPath, ...args], {
            cwd: repoRoot,
            env: {...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, MIXTRAL_THREADS: "1", MIXTRAL_MODELS: store, HOME: store, XDG_CACHE_HOME: undefined},
            stdio: ["ignore", full, "pipe"],
            encoding: "utf8",
            timeout: 60_000
        });
    } finally {
        fs.closeSync(full);
    }
}

describe.skipIf(!fs.existsSync("/dev/full"))("results that cannot be written", () => {
    for (const args of [["pull", "Q4_K_M", "--json"], ["pull", "Q4_K_M"], ["models", "path", "Q4_K_M"], ["models", "--json"], ["models"], ["list"], ["doctor", "--json"], ["doctor"],
        ["bench", "-m", tinyModel(), "-p", "8", "-n", "0", "-r", "1", "--no-warmup", "-t", "1", "-o", "json"]]) {
        it(`mixtral ${args.join(" ")} > /dev/full exits 1 with one sentence`, () => {
            const result = runToDevFull(args);
            expect(result.status, result.stderr).toBe(1);
            expect(result.stderr).toMatch(/^error: Cannot write the output: .*no space left on device/im);
            expect(result.stderr).not.toMatch(/\n\s+at /);
        });
    }
});
