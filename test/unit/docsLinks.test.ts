import fs from "node:fs";
import path from "node:path";
import {describe, expect, test} from "vitest";
import {repoRoot} from "../e2e/helpers/runCli.js";
import {brokenLink, headingAnchors, markdownFiles, relativeLinks} from "./markdownDocs.js";

/** Pages linked before they are written, on another branch (issue 19); checked like any other once they exist. */
const writtenElsewhere = new Set(["docs/development/architecture.md"]);
const pending = (file: string, target: string) => {
    const resolved = path.relative(repoRoot, path.resolve(repoRoot, path.dirname(file), target.split("#")[0]!));
    return writtenElsewhere.has(resolved) && !fs.existsSync(path.join(repoRoot, resolved));
};

describe("links in README.md and docs/", () => {
    test("every relative link points at a file that exists, and at a heading of it", () => {
        const links = relativeLinks();
        expect(links.length).toBeGreaterThan(40);
        const broken = links.flatMap((link) => {
            const why = pending(link.file, link.target) ? null : brokenLink(link);
            return why == null ? [] : [`${link.file}:${link.line}: ${why}`];
        });
        expect(broken).toEqual([]);
    });

    test("every page under docs/ is linked from README.md or another page", () => {
        const linked = new Set(relativeLinks().map((link) => {
            const target = link.target.split("#")[0]!;
            return target === "" ? link.file : new URL(target, `file:///${link.file}`).pathname.slice(1);
        }));
        expect(markdownFiles().filter((file) => file !== "README.md" && !linked.has(file))).toEqual([]);
    });

    test("anchors are GitHub's", () => {
        const anchors = headingAnchors("# Using a server: `--endpoint`\n## KV cache and flash attention\n## Notes\n## Notes\n```sh\n# not a heading\n```\n");
        expect([...anchors]).toEqual(["using-a-server---endpoint", "kv-cache-and-flash-attention", "notes", "notes-1"]);
    });

    test("a link to a missing file or heading is reported", () => {
        expect(brokenLink({file: "README.md", target: "docs/nothing-here.md", line: 1})).toMatch(/no such file/);
        expect(brokenLink({file: "README.md", target: "#no-such-heading", line: 1})).toMatch(/no heading/);
    });
});
