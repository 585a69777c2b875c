import {createHash} from "node:crypto";
import path from "node:path";
import {ModelNotFoundError, UsageError} from "../errors.js";
import type {Catalog, CatalogEntry} from "./catalog.js";
import {huggingFaceFileUrl} from "./huggingFace.js";
import {assertStorableName, storableFileName} from "./storableFileName.js";
import {expandHome} from "../userFolders.js";

/** What a --model value (or `pull` argument) names. */
export type ModelSpec =
    | {kind: "catalog", entry: CatalogEntry}
    | {kind: "path", path: string}
    /** A remote file: `hf:<owner>/<repo>/<file>.gguf` or an https URL. */
    | {kind: "remote", url: string, file: string, storeSubdir: string, label: string, repo?: string};

const remoteFilePattern = /^[^/\\]+\.gguf$/i;

/**
 * Names, in the order they are tried: a catalog name (`instruct:Q4_K_M`, `base:q8_0`, or a bare
 * quant meaning instruct; case-insensitive), `hf:<owner>/<repo>/<file>.gguf`, an http(s) URL, and
 * finally anything that looks like a path. A word that is none of these is an unknown name, and the
 * error lists the closest catalog names.
 */
export function parseModelSpec(input: string, catalog: Catalog, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): ModelSpec {
    const value = input.trim();
    if (value === "") throw new UsageError("The model name is empty.", {hint: "Pass a catalog name such as instruct:Q4_K_M, or a .gguf path."});

    const entry = findCatalogEntry(value, catalog);
    if (entry != null) return {kind: "catalog", entry};

    if (/^hf:/i.test(value)) return parseHuggingFaceSpec(value, env);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return parseUrlSpec(value);
    if (looksLikePath(value)) return {kind: "path", path: expandHome(value, {env, platform})};

    const suggestions = closestNames(value, catalog);
    throw new ModelNotFoundError(`Unknown model "${value}".`, {
        hint: (suggestions.length > 0 ? `Did you mean ${suggestions.join(", ")}? ` : "") +
            `Valid names: ${catalog.models.map((model) => model.name).join(", ")} (a bare quant means instruct), a .gguf path, hf:<owner>/<repo>/<file>.gguf or an https URL.`
    });
}

export function findCatalogEntry(value: string, catalog: Catalog): CatalogEntry | undefined {
    const lower = value.toLowerCase();
    const qualified = lower.includes(":") ? lower : `instruct:${lower}`;
    return catalog.models.find((model) => model.name.toLowerCase() === qualified);
}

function looksLikePath(value: string) {
    return value.includes("/") || value.includes("\\") || value.startsWith(".") || value.startsWith("~") ||
        /\.gguf$/i.test(value);
}

function parseHuggingFaceSpec(value: string, env: NodeJS.ProcessEnv): ModelSpec {
    // hf:<owner>/<repo>/<file>.gguf, optionally #<revision> like node-llama-cpp's URIs.
    const [body = "", revision] = value.slice(3).split("#", 2);
    const parts = body.split("/");
    const file = parts.slice(2).join("/");
    if (parts.length < 3 || parts[0] === "" || parts[1] === "" || !/\.gguf$/i.test(file) || parts.some((part) => part === "" || part === "." || part === ".."))
        throw new UsageError(`"${value}" is not a Hugging Face file name.`, {hint: "Write it as hf:<owner>/<repo>/<file>.gguf, e.g. hf:TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF/mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf"});
    for (const part of parts) assertStorableName(part, `"${value}"`);
    const [owner = "", repo = ""] = parts;
    const ref = revision == null || revision === "" ? "main" : revision;
    const folders = parts.slice(2, -1);
    return {
        kind: "remote",
        url: huggingFaceFileUrl(`${owner}/${repo}`, file, ref, env),
        file: path.posix.basename(file),
        // The revision and the folder inside the repo are part of the file's identity: #v2 and #main,
        // or a/x.gguf and b/x.gguf, are different files and must never share (or delete) one copy.
        storeSubdir: path.join("hf", owner, repo, revisionFolder(ref), ...folders),
        label: value,
        repo: `${owner}/${repo}`
    };
}

function parseUrlSpec(value: string): ModelSpec {
    let url: URL;
    try {
        url = new URL(value);
    } catch (error) {
        throw new UsageError(`"${value}" is not a valid URL.`, {hint: "Pass an https:// URL of a .gguf file.", cause: error});
    }
    const file = storableFileName(url.pathname.split("/").pop() ?? "", `the URL ${url.origin}${url.pathname}`);
    if (!remoteFilePattern.test(file) || file.startsWith("."))
        throw new UsageError(`The URL ${url.origin}${url.pathname} does not name a .gguf file.`, {hint: "Pass the URL of the .gguf file itself."});
    // Two URLs on one host with the same file name are different files: the folder is named by a
    // short hash of the whole URL (its #fragment aside, which never reaches the server).
    const identity = url.href.replace(/#.*$/, "");
    const hash = createHash("sha256").update(identity).digest("hex").slice(0, 12);
    return {kind: "remote", url: url.href, file, storeSubdir: path.join("url", url.host.replace(/[^\w.-]/g, "_"), hash), label: value};
}

/** `@<revision>`, percent-encoded: a branch such as refs/pr/1 stays one folder, and `..` stays a name. */
function revisionFolder(revision: string): string {
    return "@" + encodeURIComponent(revision);
}

/** Catalog names within a small edit distance of what was typed, best first. */
function closestNames(value: string, catalog: Catalog, limit = 3): string[] {
    const lower = value.toLowerCase();
    const scored = catalog.models.map((model) => {
        const name = model.name.toLowerCase();
        const distance = Math.min(editDistance(lower, name), editDistance(lower, model.quant.toLowerCase()) + (lower.includes(":") ? 1 : 0));
        return {name: model.name, distance};
    });
    const threshold = Math.max(2, Math.floor(lower.length / 3));
    return scored.filter((item) => item.distance <= threshold)
        // Stable: ties keep the catalog's order, instruct first, as a bare quant means instruct.
        .sort((a, b) => a.distance - b.distance)
        .slice(0, limit)
        .map((item) => item.name);
}

function editDistance(a: string, b: string): number {
    let previous = Array.from({length: b.length + 1}, (_, index) => index);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
            current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
        }
        previous = current;
    }
    return previous[b.length] ?? 0;
}
