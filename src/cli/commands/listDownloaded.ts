import fs from "node:fs/promises";
import path from "node:path";
import {loadCatalog} from "../../models/catalog.js";
import {formatBytes} from "../../formatBytes.js";
import {assertStoreFolder} from "../../models/storeAccess.js";
import {listStoreFiles, storeDir, storePathFor} from "../../models/store.js";
import {writeJson, writeOut} from "../ui/stdout.js";
import {terminalPolicy} from "../ui/terminal.js";

/**
 * `mixtral list` (`ls`), like `ollama list`: only what is downloaded, with the name to pass to
 * --model (the catalog name, else the file's place in the store), size and when it arrived.
 */
export async function runListDownloaded(options: {json?: boolean}) {
    const dir = storeDir();
    await assertStoreFolder(dir);
    const catalogNames = new Map(loadCatalog().models.map((entry) => [storePathFor({kind: "catalog", entry}, dir), entry.name]));
    const files = await Promise.all((await listStoreFiles(dir)).map(async (file) => ({
        name: catalogNames.get(file.path) ?? path.relative(dir, file.path),
        path: file.path,
        bytes: file.bytes,
        modified: (await fs.stat(file.path)).mtime
    })));
    if (options.json === true) {
        writeJson(files.map((file) => ({...file, modified: file.modified.toISOString()})));
        return;
    }
    const table = [["NAME", "SIZE", "MODIFIED", "PATH"], ...files.map((file) => [file.name, formatBytes(file.bytes), file.modified.toISOString().slice(0, 16).replace("T", " "), file.path])];
    const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => (line[column] ?? "").length)));
    const {colors} = terminalPolicy();
    for (const [index, line] of table.entries()) {
        const text = line.map((cell, column) => column === line.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd();
        writeOut((index === 0 ? colors.bold(text) : text) + "\n");
    }
}
