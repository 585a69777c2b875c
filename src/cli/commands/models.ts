import fs from "node:fs";
import path from "node:path";
import {ModelNotFoundError, UsageError} from "../../errors.js";
import {loadCatalog, type Catalog} from "../../models/catalog.js";
import {adapterPullTargets, findFineTune, fineTuneAdapterPath} from "../../models/fineTunes.js";
import {formatBytes} from "../../formatBytes.js";
import {parseModelSpec} from "../../models/resolveName.js";
import {assertStoreFolder, storeAccessError} from "../../models/storeAccess.js";
import {fileSize, listStoreFiles, removeFromStore, stagingFilesFor, storeDir, storeFileFromArgument, storePathFor} from "../../models/store.js";
import {measureYourOwn, pplIncrease, publishedFor} from "../../quality/publishedQuality.js";
import {writeJson, writeOut} from "../ui/stdout.js";
import {logLine, terminalPolicy} from "../ui/terminal.js";

/** `mixtral models`: the catalog, what is downloaded, sizes and paths. */
export async function runModelsList(options: {json?: boolean}) {
    const dir = storeDir();
    await assertStoreFolder(dir);
    const catalog = loadCatalog();
    const rows = await Promise.all(catalog.models.map(async (entry) => {
        const file = storePathFor({kind: "catalog", entry}, dir);
        const downloadedBytes = await fileSize(file);
        // A paused or failed pull: its bytes await a resume.
        const staging = stagingFilesFor(file, dir);
        const partialBytes = downloadedBytes != null ? undefined : await fileSize(staging.inTransit) ?? await fileSize(staging.complete);
        // The Wikitext perplexity this quant is published to add over Q8_0 (either variant's figure), with its source.
        const publishedQuality = publishedFor(entry.quant).map((figure) => ({...figure, increase: pplIncrease(figure)}));
        return {...entry, downloaded: downloadedBytes != null, path: file, downloadedBytes, partialBytes: partialBytes == null ? undefined : Math.min(partialBytes, entry.bytes), publishedQuality};
    }));
    const fineTunes = await fineTuneRows(catalog, dir);
    const known = new Set([...rows.map((row) => row.path), ...fineTunes.map((row) => row.adapter.path)]);
    const others = (await listStoreFiles(dir)).filter((file) => !known.has(file.path));
    if (options.json === true) {
        writeJson({store: dir, models: rows, fineTunes, otherFiles: others});
        return;
    }
    const {colors} = terminalPolicy();
    const table = [["NAME", "SIZE", "BPW", "STATE", "PATH"], ...rows.map((row) => [
        row.name + (row.belowRange === true ? " (below range)" : ""),
        (row.bytesExact || row.downloadedBytes != null ? "" : "~") + formatBytes(row.downloadedBytes ?? row.bytes),
        row.bitsPerWeight.toFixed(2),
        row.downloaded ? "downloaded" : row.partialBytes != null ? `partial (${formatBytes(row.partialBytes)}; pull resumes)` : "-",
        row.downloaded ? row.path : ""
    ]), ...fineTunes.map((row) => [
        `${row.name}[:<quant>] = ${row.base}:<quant> + LoRA ${row.adapter.repo}`,
        row.adapter.bytes == null ? "?" : formatBytes(row.adapter.bytes),
        "",
        row.adapter.downloaded ? "downloaded" : "-",
        row.adapter.downloaded ? row.adapter.path : ""
    ]), ...others.map((file) => [path.relative(dir, file.path), formatBytes(file.bytes), "", "downloaded", file.path])];
    const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => (line[column] ?? "").length)));
    for (const [index, line] of table.entries()) {
        const text = line.map((cell, column) => column === line.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd();
        writeOut((index === 0 ? colors.bold(text) : line[3] === "downloaded" ? colors.green(text) : text) + "\n");
    }
    for (const row of fineTunes) logLine(`${row.name}: ${row.description}; \`mixtral chat -m ${row.name}\` pulls what is missing (the adapter's size is the server's until downloaded)`);
    logLine(`store: ${dir} (MIXTRAL_MODELS to change); ~ marks a model card's rounded size`);
    const published = ["Q3_K_M", "Q4_K_M"].flatMap(publishedFor).map((figure) => `${figure.variant} ${figure.quant} ${pplIncrease(figure)}`);
    logLine(`quality: published Wikitext perplexity over Q8_0: ${published.join(", ")}; ${measureYourOwn}`);
}

/** Each fine-tune with its two parts: the base variant (any quant) and its LoRA adapter. */
async function fineTuneRows(catalog: Catalog, dir: string) {
    return Promise.all(catalog.fineTunes.map(async (fineTune) => {
        const adapterPath = fineTuneAdapterPath(fineTune, dir);
        const converted = await fileSize(adapterPath);
        return {
            name: fineTune.name,
            description: fineTune.description,
            base: fineTune.base,
            adapter: {repo: fineTune.repo, path: adapterPath, downloaded: converted != null, bytes: converted ?? fineTune.bytes ?? undefined}
        };
    }));
}

/** `mixtral models path <name>`: the file of a downloaded model, for scripts. */
export async function runModelsPath(name: string) {
    const fineTune = findFineTune(name, loadCatalog());
    if (fineTune != null) {
        // a fine-tune's own file is its converted adapter; its base prints with `models path <base>:<quant>`
        const adapter = fineTuneAdapterPath(fineTune.fineTune);
        if (await fileSize(adapter) == null)
            throw new ModelNotFoundError(`The ${fineTune.fineTune.name} adapter is not downloaded.`, {hint: `Run: mixtral pull ${fineTune.fineTune.name}`});
        writeOut(adapter + "\n");
        return;
    }
    const {file, label} = await storeFileOf(name);
    if (await fileSize(file) == null)
        throw new ModelNotFoundError(`${label} is not downloaded.`, {hint: `Run: mixtral pull ${label}`});
    writeOut(file + "\n");
}

/** `mixtral models rm <name>`: removes a model (and any partial download) from the store, nothing else. */
export async function runModelsRm(name: string) {
    const fineTune = findFineTune(name, loadCatalog());
    // a fine-tune: its adapter (PEFT files and the converted GGUF); the base model stays for other uses
    const files = fineTune != null
        ? [fineTuneAdapterPath(fineTune.fineTune), ...adapterPullTargets(fineTune.fineTune).map((target) => storePathFor(target))]
        : [(await storeFileOf(name)).file];
    if (fineTune == null && (await fs.promises.stat(files[0]!).catch(() => undefined))?.isDirectory() === true)
        throw new UsageError(`${name} is a folder, not a model file; nothing removed.`, {hint: "Pass a catalog name or one model file listed by `mixtral models`."});
    const removed: string[] = [];
    for (const file of files) removed.push(...await removeFromStore(file).catch((error: unknown) => {
        throw storeAccessError(error, storeDir()) ?? error;
    }));
    if (removed.length === 0) throw new ModelNotFoundError(`${name} is not in the store; nothing removed.`, {hint: "See `mixtral models` for what is downloaded."});
    for (const file of removed) logLine(`removed ${file}`);
}

async function storeFileOf(name: string): Promise<{file: string, label: string}> {
    const dir = storeDir();
    await assertStoreFolder(dir);
    let spec;
    try {
        spec = parseModelSpec(name, loadCatalog());
    } catch (error) {
        // A file name in the store (e.g. from `mixtral models`) is fine too.
        if (!(error instanceof ModelNotFoundError) || !fs.existsSync(path.resolve(dir, name))) throw error;
        return {file: storeFileFromArgument(name, dir), label: name};
    }
    if (spec.kind === "path") return {file: storeFileFromArgument(spec.path, dir), label: name};
    return {file: storePathFor(spec, dir), label: spec.kind === "catalog" ? spec.entry.name : spec.label};
}
