import type {Stats} from "node:fs";
import fs from "node:fs/promises";
import {ModelFileError} from "../errors.js";
import {fileAccessHint} from "../platformHints.js";

/**
 * The first look at a --model path, before any byte is read: it must exist, be a regular file (a
 * FIFO would block the reader forever, /dev/zero never ends) and be readable by this user. Each
 * failure is one sentence saying what to fix.
 */
export async function statModelFile(path: string, hint: string): Promise<Stats> {
    let stat;
    try {
        stat = await fs.stat(path);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EACCES")
            throw new ModelFileError(`Cannot reach ${path}: permission denied on one of its folders.`, {hint: fileAccessHint(path, "folders"), cause: error});
        throw new ModelFileError(`Model file not found: ${path}`, {hint, cause: error});
    }
    if (stat.isDirectory()) throw new ModelFileError(`${path} is a directory, not a GGUF model file.`, {hint});
    if (!stat.isFile()) throw new ModelFileError(`${path} is ${specialKind(stat)}, not a GGUF model file on disk.`, {hint});
    try {
        await fs.access(path, fs.constants.R_OK);
    } catch (error) {
        throw new ModelFileError(`Cannot read ${path}: permission denied.`, {
            hint: fileAccessHint(path, "file"),
            cause: error
        });
    }
    return stat;
}

function specialKind(stat: Stats): string {
    if (stat.isFIFO()) return "a named pipe (FIFO)";
    if (stat.isCharacterDevice()) return "a character device";
    if (stat.isBlockDevice()) return "a block device";
    if (stat.isSocket()) return "a socket";
    return "not a regular file";
}
