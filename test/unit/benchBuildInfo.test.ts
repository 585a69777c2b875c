import path from "node:path";
import {fileURLToPath} from "node:url";
import {describe, expect, it} from "vitest";
import {readElfBuildInfo, readPrebuiltBuildInfo} from "../../src/engine/bench/benchBuildInfo.js";

const nodeLlamaCppRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../node_modules/node-llama-cpp");

describe("llama.cpp build stamp", () => {
    it.runIf(process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64"))(
        "reads llama.cpp's short commit and build number out of the prebuilt library", async () => {
            const info = await readPrebuiltBuildInfo(nodeLlamaCppRoot, "cpu");
            expect(info?.commit).toMatch(/^[0-9a-f]{7,40}$/);
            expect(Number.isInteger(info?.number)).toBe(true);
        });

    it("gives up on anything that is not a 64-bit little-endian ELF file", () => {
        expect(readElfBuildInfo(Buffer.from("not an elf file at all, just some text that is long enough to be read"))).toBeUndefined();
        const header = Buffer.alloc(64);
        header.writeUInt32BE(0x7f454c46, 0);
        header[4] = 1; // 32-bit
        expect(readElfBuildInfo(header)).toBeUndefined();
    });
});
