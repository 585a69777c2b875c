/**
 * Atomic, skip-if-unchanged model writing: the GGUF goes to a temporary name in the same folder and is
 * renamed into place only when complete, so a reader (or a concurrent test run) never sees half a file;
 * a sidecar `<path>.json` records the options, the generator's fingerprint and the size so an identical
 * model is kept.
 */
import {createHash} from "node:crypto";
import {readdirSync, readFileSync} from "node:fs";
import {mkdir, readFile, rename, rm, stat, writeFile} from "node:fs/promises";
import {dirname, join} from "node:path";
import {writeMixtralModel, type MixtralModelOptions} from "./mixtralModel.js";
import {projectRoot} from "./projectRoot.js";
import type {WriteGgufOptions} from "../../src/gguf/write/writeGguf.js";

export type WriteIfChangedResult = {path: string, written: boolean, fileBytes: number};

type Sidecar = {generator: string, options: MixtralModelOptions, fileBytes: number};

/** Files whose edits cannot change the bytes of a model, so they do not invalidate written ones. */
const notGeneratorSources = new Set(["testModels.ts", "writeModelIfChanged.ts", "projectRoot.ts"]);

let cachedFingerprint: string | undefined;

/**
 * A hash of the generator's TypeScript sources (scripts/gguf/*.ts and src/gguf/write/*.ts), so editing the weights, vocabulary or
 * writer makes every model written before the edit stale, with no version number to remember to bump.
 */
export function generatorFingerprint(): string {
    if (cachedFingerprint === undefined) {
        const hash = createHash("sha256");
        try {
            // the model generator and the GGUF writer it shares with the adapter converter (src/gguf/write)
            for (const folder of [join(projectRoot(), "scripts", "gguf"), join(projectRoot(), "src", "gguf", "write")])
                for (const file of readdirSync(folder).filter((f) => f.endsWith(".ts") && !notGeneratorSources.has(f)).sort())
                    hash.update(file).update("\0").update(readFileSync(join(folder, file))).update("\0");
        } catch {
            hash.update(`unknown-${process.pid}-${Date.now()}`); // no sources: never trust an old file
        }
        cachedFingerprint = hash.digest("hex").slice(0, 16);
    }
    return cachedFingerprint;
}

export async function writeModelIfChanged(
    path: string,
    options: MixtralModelOptions,
    writeOptions: WriteGgufOptions = {}
): Promise<WriteIfChangedResult> {
    const wanted = {generator: generatorFingerprint(), options: normalize(options)};
    const existingBytes = await upToDateSize(path, wanted);
    if (existingBytes !== undefined)
        return {path, written: false, fileBytes: existingBytes};

    await mkdir(dirname(path), {recursive: true});
    const temporaryPath = `${path}.${process.pid}.${Date.now()}.tmp`;
    try {
        const {fileBytes} = await writeMixtralModel(temporaryPath, options, writeOptions);
        await rm(`${path}.json`, {force: true});
        await rename(temporaryPath, path);
        const sidecar: Sidecar = {...wanted, fileBytes};
        await writeFile(`${temporaryPath}.json`, JSON.stringify(sidecar, null, 2) + "\n");
        await rename(`${temporaryPath}.json`, `${path}.json`);
        return {path, written: true, fileBytes};
    } finally {
        await rm(temporaryPath, {force: true});
        await rm(`${temporaryPath}.json`, {force: true});
    }
}

async function upToDateSize(path: string, wanted: Omit<Sidecar, "fileBytes">): Promise<number | undefined> {
    try {
        const sidecar = JSON.parse(await readFile(`${path}.json`, "utf8")) as Partial<Sidecar>;
        const {size} = await stat(path);
        const same = JSON.stringify({generator: sidecar.generator, options: sidecar.options}) === JSON.stringify(wanted);
        return same && sidecar.fileBytes === size ? size : undefined;
    } catch {
        return undefined;
    }
}

/** Fixed key order and defaults filled in, so equal options always serialize the same. */
function normalize(options: MixtralModelOptions): MixtralModelOptions {
    const {dim, ffDim, layers, heads, kvHeads, vocabSize, contextLength, tensorType, seed, chatTemplate = true, name} = options;
    return {dim, ffDim, layers, heads, kvHeads, vocabSize, contextLength, tensorType, seed, chatTemplate, name};
}
