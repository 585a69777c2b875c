import fs from "node:fs/promises";
import {MixtralError} from "../errors.js";

/** What to call the store in a message: the variable when the user set it, so they know what to fix. */
function storeName(dir: string, env: NodeJS.ProcessEnv): string {
    return env.MIXTRAL_MODELS != null && env.MIXTRAL_MODELS !== "" ? `MIXTRAL_MODELS (${dir})` : `the model store ${dir}`;
}

const storeHint = "Set MIXTRAL_MODELS to a folder you can write (it is created when missing).";

/** The store must be a folder, or not exist yet; anything else is one sentence naming what to change. */
export async function assertStoreFolder(dir: string, env: NodeJS.ProcessEnv = process.env) {
    let stat;
    try {
        stat = await fs.stat(dir);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return;
        throw storeAccessError(error, dir, env) ?? error;
    }
    if (!stat.isDirectory())
        throw new MixtralError(`${capitalized(storeName(dir, env))} is a file, not a folder.`, {hint: storeHint});
}

/**
 * A file-system refusal inside the store (read-only, no permission, a file where a folder should
 * be) as one sentence; undefined for anything else, which the caller rethrows as it is.
 */
export function storeAccessError(error: unknown, dir: string, env: NodeJS.ProcessEnv = process.env): MixtralError | undefined {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const reasons: Record<string, string> = {
        EACCES: "permission denied",
        EPERM: "permission denied",
        EROFS: "it is on a read-only file system",
        ENOTDIR: "a part of its path is a file, not a folder",
        EISDIR: "a folder stands where a model file should go"
    };
    const reason = code == null ? undefined : reasons[code];
    if (reason == null) return undefined;
    const where = (error as NodeJS.ErrnoException).path;
    return new MixtralError(`Cannot write to ${storeName(dir, env)}: ${reason}${where != null && where !== dir ? ` (${where})` : ""}.`, {
        hint: code === "EISDIR" ? "Remove or rename that folder, then run the command again." : storeHint,
        cause: error
    });
}

function capitalized(text: string): string {
    return text.charAt(0).toUpperCase() + text.slice(1);
}
