import fs from "node:fs";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {ModelFileError} from "../errors.js";

/**
 * The catalog of Mixtral 8x7B GGUF files (models.json): the one source of truth for quants,
 * repos, file names, sizes and checksums. MIXTRAL_CATALOG points at another file (tests use it
 * to publish the tiny model under a catalog name with a known sha256).
 */
export type CatalogEntry = {
    /** `<variant>:<QUANT>`, e.g. instruct:Q4_K_M. */
    name: string,
    variant: string,
    quant: string,
    /** Hugging Face `<owner>/<repo>`. */
    repo: string,
    file: string,
    bytes: number,
    /** true when `bytes` is the exact file size, false when it is a model card's rounded size. */
    bytesExact: boolean,
    bitsPerWeight: number,
    /** Enforced on download when present; otherwise the server's sha256 ETag is used. */
    sha256: string | null,
    /** Below the Q3_K..Q8_0 range this tool targets. */
    belowRange?: boolean,
    /** Git revision to download from; main when absent. */
    revision?: string
};

/**
 * A fine-tune published as a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors in a
 * Hugging Face repo) over one of the catalog's variants: `<name>` and `<name>:<QUANT>` run
 * `<base>:<QUANT>` with the adapter, converted to GGUF once and kept in the store.
 */
export type FineTuneEntry = {
    /** e.g. aurora */
    name: string,
    description: string,
    /** the variant it was trained on, e.g. instruct */
    base: string,
    repo: string,
    revision?: string,
    /** adapter_model.safetensors' size when known; null: the server says */
    bytes: number | null
};

export type Catalog = {models: CatalogEntry[], fineTunes: FineTuneEntry[]};

const quantPattern = /^[A-Z0-9_]+$/;
const sha256Pattern = /^[0-9a-f]{64}$/;

/** Every problem with a catalog document, one sentence each; empty when it is valid. */
export function catalogProblems(document: unknown): string[] {
    const problems: string[] = [];
    if (typeof document !== "object" || document == null || !Array.isArray((document as {models?: unknown}).models))
        return ["the catalog must be an object with a `models` array"];
    const names = new Set<string>();
    const files = new Set<string>();
    for (const [index, raw] of ((document as {models: unknown[]}).models).entries()) {
        const where = `models[${index}]`;
        if (typeof raw !== "object" || raw == null) {
            problems.push(`${where} is not an object`);
            continue;
        }
        const entry = raw as Record<string, unknown>;
        for (const key of ["name", "variant", "quant", "repo", "file"] as const)
            if (typeof entry[key] !== "string" || entry[key] === "") problems.push(`${where}.${key} must be a non-empty string`);
        if (typeof entry.bytes !== "number" || !Number.isSafeInteger(entry.bytes) || entry.bytes <= 0)
            problems.push(`${where}.bytes must be a positive integer`);
        if (typeof entry.bytesExact !== "boolean") problems.push(`${where}.bytesExact must be a boolean`);
        if (typeof entry.bitsPerWeight !== "number" || !(entry.bitsPerWeight > 0 && entry.bitsPerWeight <= 32))
            problems.push(`${where}.bitsPerWeight must be a number in (0, 32]`);
        if (entry.sha256 !== null && (typeof entry.sha256 !== "string" || !sha256Pattern.test(entry.sha256)))
            problems.push(`${where}.sha256 must be null or 64 lowercase hex digits`);
        if (entry.belowRange !== undefined && typeof entry.belowRange !== "boolean") problems.push(`${where}.belowRange must be a boolean`);
        if (entry.revision !== undefined && (typeof entry.revision !== "string" || entry.revision === ""))
            problems.push(`${where}.revision must be a non-empty string`);
        if (typeof entry.quant === "string" && !quantPattern.test(entry.quant)) problems.push(`${where}.quant must be upper case, like Q4_K_M`);
        if (typeof entry.name === "string" && entry.name !== `${String(entry.variant)}:${String(entry.quant)}`)
            problems.push(`${where}.name must be "<variant>:<quant>"`);
        if (typeof entry.repo === "string" && !/^[\w.-]+\/[\w.-]+$/.test(entry.repo)) problems.push(`${where}.repo must be <owner>/<repo>`);
        if (typeof entry.file === "string" && (!entry.file.endsWith(".gguf") || entry.file.includes("/") || entry.file.includes("\\")))
            problems.push(`${where}.file must be a plain *.gguf file name`);
        const name = String(entry.name).toLowerCase();
        if (names.has(name)) problems.push(`${where}.name ${String(entry.name)} is listed twice`);
        names.add(name);
        const file = `${String(entry.repo)}/${String(entry.file)}`;
        if (files.has(file)) problems.push(`${where} repeats the file ${file}`);
        files.add(file);
    }
    problems.push(...fineTuneProblems((document as {fineTunes?: unknown}).fineTunes, names));
    return problems;
}

function fineTuneProblems(fineTunes: unknown, modelNames: Set<string>): string[] {
    if (fineTunes === undefined) return [];
    if (!Array.isArray(fineTunes)) return ["fineTunes must be an array"];
    const problems: string[] = [];
    const variants = new Set([...modelNames].map((name) => name.split(":")[0]));
    const names = new Set<string>();
    for (const [index, raw] of fineTunes.entries()) {
        const where = `fineTunes[${index}]`;
        const entry = (typeof raw === "object" && raw != null ? raw : {}) as Record<string, unknown>;
        for (const key of ["name", "description", "base", "repo"] as const)
            if (typeof entry[key] !== "string" || entry[key] === "") problems.push(`${where}.${key} must be a non-empty string`);
        const name = String(entry.name).toLowerCase();
        if (typeof entry.name === "string" && !/^[a-z][a-z0-9-]*$/.test(entry.name)) problems.push(`${where}.name must be lower case letters, digits and dashes`);
        if (variants.has(name) || names.has(name)) problems.push(`${where}.name ${String(entry.name)} is already a name`);
        names.add(name);
        if (typeof entry.base === "string" && !variants.has(entry.base)) problems.push(`${where}.base ${entry.base} is not a variant of the catalog`);
        if (typeof entry.repo === "string" && !/^[\w.-]+\/[\w.-]+$/.test(entry.repo)) problems.push(`${where}.repo must be <owner>/<repo>`);
        if (entry.bytes !== null && (typeof entry.bytes !== "number" || !Number.isSafeInteger(entry.bytes) || entry.bytes <= 0))
            problems.push(`${where}.bytes must be null or a positive integer`);
        if (entry.revision !== undefined && (typeof entry.revision !== "string" || entry.revision === ""))
            problems.push(`${where}.revision must be a non-empty string`);
    }
    return problems;
}

/** models.json at the package root: two folders up from src/models, three from dist/src/models. */
export const defaultCatalogPath = findUp(path.dirname(fileURLToPath(import.meta.url)), "models.json");

function findUp(start: string, name: string): string {
    let dir = start;
    for (let depth = 0; depth < 4; depth++) {
        const candidate = path.join(dir, name);
        if (fs.existsSync(candidate)) return candidate;
        dir = path.dirname(dir);
    }
    return path.resolve(start, "../../..", name);
}

function catalogPath(env: NodeJS.ProcessEnv = process.env): string {
    const override = env.MIXTRAL_CATALOG;
    return override != null && override !== "" ? path.resolve(override) : defaultCatalogPath;
}

const cache = new Map<string, Catalog>();

/** Reads and validates the catalog; a broken catalog is a clear error, never a crash later. */
export function loadCatalog(file = catalogPath()): Catalog {
    const cached = cache.get(file);
    if (cached != null) return cached;
    let document: unknown;
    try {
        document = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
        throw new ModelFileError(`Cannot read the model catalog ${file}.`, {
            hint: "Check MIXTRAL_CATALOG, or reinstall mixtral if models.json is missing.",
            cause: error
        });
    }
    const problems = catalogProblems(document);
    if (problems.length > 0)
        throw new ModelFileError(`The model catalog ${file} is invalid: ${problems.slice(0, 3).join("; ")}.`, {
            hint: "Fix the file or unset MIXTRAL_CATALOG."
        });
    const catalog = {models: (document as Catalog).models, fineTunes: (document as Partial<Catalog>).fineTunes ?? []};
    cache.set(file, catalog);
    return catalog;
}
