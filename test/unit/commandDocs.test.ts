import fs from "node:fs";
import path from "node:path";
import {pathToFileURL} from "node:url";
import {describe, expect, test} from "vitest";
import {repoRoot} from "../e2e/helpers/runCli.js";

type CommandDocs = typeof import("../../scripts/commandDocs.js");

/** docs/commands/*.md carry flag tables generated from src/cli/program.ts (built into dist/). */
const {commandPages, replaceBlock, topLevelCommands} = await import(pathToFileURL(path.join(repoRoot, "dist", "scripts", "commandDocs.js")).href) as CommandDocs;
const folder = path.join(repoRoot, "docs", "commands");

describe("docs/commands", () => {
    test.each(commandPages().map((page) => [page.file, page] as const))("%s has the current flag table (else: npm run docs:commands)", (file, page) => {
        const text = fs.readFileSync(path.join(folder, file), "utf8");
        expect(replaceBlock(text, page.block, file)).toBe(text);
    });

    test("every command has its page, and README.md links it", () => {
        const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
        for (const command of topLevelCommands()) {
            expect(fs.existsSync(path.join(folder, `${command.name()}.md`))).toBe(true);
            expect(readme).toContain(`](docs/commands/${command.name()}.md)`);
        }
    });

    test("a stale table is found", () => {
        const [page] = commandPages();
        const text = fs.readFileSync(path.join(folder, page!.file), "utf8");
        const stale = text.replace(/\| `-h, --help` \|/, "| `-h, --halp` |");
        expect(stale).not.toBe(text);
        expect(replaceBlock(stale, page!.block, page!.file)).not.toBe(stale);
    });
});
