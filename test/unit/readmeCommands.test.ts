import fs from "node:fs";
import path from "node:path";
import {describe, expect, test} from "vitest";
import {repoRoot} from "../e2e/helpers/runCli.js";

/** The README shows how to put `mixtral` on the PATH, then writes it bare, as a user types it. */
const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
const setUp = /^## Set up\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? "";
const afterSetUp = readme.slice(readme.indexOf(setUp) + setUp.length);

describe("README", () => {
    test("is a front page: at most 12 KB, the quick start (`mixtral chat`) within its first 60 lines", () => {
        expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(12 * 1024);
        const firstScreen = readme.split("\n").slice(0, 60).join("\n");
        expect(firstScreen).toMatch(/^## Quick start$/m);
        expect(firstScreen).toMatch(/^```sh\n(?:.*\n)*?mixtral chat\b/m);
    });

    test("the set-up puts mixtral on the PATH from the clone", () => {
        expect(setUp).toMatch(/^npm ci\b/m);
        expect(setUp).toMatch(/^npm test\b/m);
        expect(setUp).toMatch(/^npm link\b/m);
        expect(setUp).toContain("npm install -g .");
    });

    test("after the set-up every command is a bare `mixtral`", () => {
        expect(afterSetUp.length).toBeGreaterThan(1000);
        expect(afterSetUp).not.toMatch(/npx mixtral/);
    });

    test("the command it links is the package's bin", () => {
        const packageJson = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {bin: Record<string, string>};
        expect(packageJson.bin).toEqual({mixtral: "bin/mixtral.js"});
        expect(fs.readFileSync(path.join(repoRoot, "bin", "mixtral.js"), "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
    });
});
