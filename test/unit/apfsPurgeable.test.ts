import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {diskSpace, parseByteCount} from "../../src/hardware/freeDiskBytes.js";
import {assertFreeSpace} from "../../src/models/diskSpace.js";

// APFS's purgeable space (local Time Machine snapshots, iCloud copies) is allocated, so statfs leaves
// it out; macOS frees it as a write needs room. The Mac's answer is injected here: this is Linux.

let dir: string;
beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-apfs-"));
});
/** statfs's figure now: other programs on this machine write while the tests run, so compare within a GB. */
function statfsBytes() {
    const stat = fs.statfsSync(dir);
    return stat.bavail * stat.bsize;
}
const near = (bytes: number) => ({asymmetricMatch: (value: number) => Math.abs(value - bytes) < 1e9, toString: () => `about ${bytes}`});
afterAll(() => fs.rmSync(dir, {recursive: true, force: true}));

const env = {};

describe("macOS: free space counts purgeable space", () => {
    test("the important-usage capacity counts, and the purgeable part is what it adds to statfs", async () => {
        const asked: string[] = [];
        const space = await diskSpace(path.join(dir, "models", "not-yet"), {env, platform: "darwin", importantCapacity: async (folder) => {
            asked.push(folder);
            return statfsBytes() + 40e9;
        }});
        expect(space).toEqual({bytes: near(statfsBytes() + 40e9), purgeableBytes: near(40e9)});
        // Asked about the closest folder that exists (the store may not exist yet).
        expect(asked).toEqual([dir]);
    });

    test("a failed or unreadable answer falls back to statfs silently", async () => {
        for (const importantCapacity of [async () => undefined, async () => { throw new Error("osascript: not found"); }, async () => 10])
            expect(await diskSpace(dir, {env, platform: "darwin", importantCapacity})).toEqual({bytes: near(statfsBytes()), purgeableBytes: 0});
    });

    test("never asked off macOS", async () => {
        const space = await diskSpace(dir, {env, platform: "linux", importantCapacity: async () => { throw new Error("asked"); }});
        expect(space).toEqual({bytes: near(statfsBytes()), purgeableBytes: 0});
    });

    test("a download that fits only with purgeable space passes; one that does not says purgeable space was counted", async () => {
        const purgeable = async () => statfsBytes() + 40e9;
        await expect(assertFreeSpace(dir, statfsBytes() + 20e9, env, "darwin", purgeable)).resolves.toBeUndefined();
        const refused = assertFreeSpace(dir, statfsBytes() + 60e9, env, "darwin", purgeable);
        await expect(refused).rejects.toMatchObject({message: expect.stringMatching(/counting (39|40)\.\d GB of purgeable space macOS frees on demand\.$/)});
        // tmutil is for when the purgeable space could not be read; here it was counted already.
        await expect(refused).rejects.toMatchObject({hint: expect.not.stringMatching(/tmutil/)});
        await expect(assertFreeSpace(dir, statfsBytes() + 20e9, env, "darwin", async () => undefined))
            .rejects.toMatchObject({message: expect.stringMatching(/ is free\.$/), hint: expect.stringMatching(/tmutil thinlocalsnapshots/)});
    });

    test("osascript's output is a byte count or unknown", () => {
        expect(parseByteCount("123456789012\n")).toBe(123456789012);
        for (const output of ["", "undefined", "1.5e11", "-3", "execution error: ..."]) expect(parseByteCount(output)).toBeUndefined();
    });
});
