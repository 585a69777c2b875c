import fs from "node:fs/promises";
import path from "node:path";
import {loadCatalog} from "../../models/catalog.js";
import {formatBytes} from "../../formatBytes.js";
import {assertStoreFolder} from "../../models/storeAccess.js";
import {fineTuneAdapterPath} from "../../models/fineTunes.js";
import {listStoreFiles, storeDir, storePathFor} from "../../models/store.js";
import {writeJson, writeOut} from "../ui/stdout.js";
import {logLine, terminalPolicy} from "../ui/terminal.js";

/**
 * `mixtral list` (`ls`), like `ollama list`: only what is downloaded, with the name to pass to
 * --model (the catalog name, else the file's place in the store), size and when it arrived.
 * LoRA adapters are listed apart: they are not models (--lora takes them, or a fine-tune's name).
 */
export async function runListDownloaded(options: {json?: boolean}) {
    const dir = storeDir();
    await assertStoreFolder(dir);
    const catalog = loadCatalog();
    const catalogNames = new Map(catalog.models.map((entry) => [storePathFor({kind: "catalog", entry}, dir), entry.name]));
    const fineTunes = new Map(catalog.fineTunes.map((fineTune) => [fineTuneAdapterPath(fineTune, dir), fineTune]));
    const files = await Promise.all((await listStoreFiles(dir)).map(async (file) => {
        const fineTune = fineTunes.get(file.path);
        const adapter = fineTune != null || file.path.endsWith(".lora.gguf");
        return {
            name: fineTune?.name ?? catalogNames.get(file.path) ?? path.relative(dir, file.path),
            kind: adapter ? "adapter" as const : "model" as const,
            ...(fineTune == null ? {} : {base: fineTune.base}),
            path: file.path,
            bytes: file.bytes,
            modified: (await fs.stat(file.path)).mtime
        };
    }));
    if (options.json === true) {
        writeJson(files.map((file) => ({...file, modified: file.modified.toISOString()})));
        return;
    }
    const {colors} = terminalPolicy();
    const row = (file: (typeof files)[number]) => [file.name, formatBytes(file.bytes), file.modified.toISOString().slice(0, 16).replace("T", " "), file.path];
    const models = files.filter((file) => file.kind === "model");
    const adapters = files.filter((file) => file.kind === "adapter");
    printTable([["NAME", "SIZE", "MODIFIED", "PATH"], ...models.map(row)], colors.bold);
    if (adapters.length > 0) {
        writeOut("\n");
        printTable([["LORA ADAPTER", "SIZE", "MODIFIED", "PATH"], ...adapters.map(row)], colors.bold);
        const fineTune = adapters.find((file) => file.base != null);
        logLine(`LoRA adapters are not models: pass one with --lora <path>${fineTune == null ? "" : `, or a fine-tune's name as --model (\`-m ${fineTune.name}\` is ${fineTune.base} with its adapter)`}.`);
    }
    if (models.length === 0)
        logLine(`No models downloaded yet (store: ${dir}). \`mixtral pull <name>\` downloads one; \`mixtral models\` lists the catalog.`);
}

function printTable(table: string[][], bold: (text: string) => string) {
    const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => (line[column] ?? "").length)));
    for (const [index, line] of table.entries()) {
        const text = line.map((cell, column) => column === line.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd();
        writeOut((index === 0 ? bold(text) : text) + "\n");
    }
}
