/**
 * `npm run docs:commands`: rewrites the generated flag tables of docs/commands/*.md from the command
 * registry (see commandDocs.ts); a page a new command needs is created with its table. `--check`
 * writes nothing and exits 1 naming the stale pages.
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {commandPages, newPage, replaceBlock} from "./commandDocs.js";
import {projectRoot} from "./gguf/projectRoot.js";

const check = process.argv.includes("--check");
const folder = join(projectRoot(), "docs", "commands");
mkdirSync(folder, {recursive: true});
const stale: string[] = [];
for (const page of commandPages()) {
    const path = join(folder, page.file);
    const before = existsSync(path) ? readFileSync(path, "utf8") : null;
    const after = before == null ? newPage(page) : replaceBlock(before, page.block, page.file);
    if (after === before) continue;
    stale.push(`docs/commands/${page.file}`);
    if (!check) writeFileSync(path, after);
}
if (check && stale.length > 0) {
    console.error(`stale flag tables (run \`npm run docs:commands\`): ${stale.join(", ")}`);
    process.exitCode = 1;
} else console.log(stale.length === 0 ? "flag tables up to date" : `wrote ${stale.join(", ")}`);
