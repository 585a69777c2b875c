import path from "node:path";

/** Windows's MAX_PATH (260) less the terminating NUL: the longest path a program opens without long-path support. */
export const windowsMaxPath = 259;

/**
 * The path to give llama.cpp for a file it opens itself (a model, a LoRA adapter, a KV state file).
 * Node's own file calls add Windows's `\\?\` prefix to every path, so mixtral's reads and renames
 * work past 259 characters; llama.cpp opens files with _wfopen and no prefix, which fails there
 * unless the LongPathsEnabled policy is on. With the prefix (on the full, normalized path: `\\?\`
 * turns off the `/` → `\` and `..` rewriting) it opens on every Windows. Shorter paths, and every
 * path elsewhere, are passed as given.
 */
export function nativeFilePath(file: string, platform: NodeJS.Platform = process.platform): string {
    if (platform !== "win32") return file;
    const full = path.win32.resolve(file);
    return full.length > windowsMaxPath ? path.win32.toNamespacedPath(full) : file;
}

/** Names Windows keeps for devices, with or without an extension (`nul.gguf` is the NUL device). */
const windowsDeviceName = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;

/**
 * Why Windows cannot hold a file of this name, or undefined when it can. NTFS: `talk:x.json` writes
 * an alternate data stream of a file `talk` (nothing visible appears), `?` and `*` are wildcards,
 * `<>"|` are refused, a trailing dot or space is silently dropped, and device names open the device.
 */
export function windowsNameProblem(name: string): string | undefined {
    if (/[<>:"|?*]/.test(name)) return "Windows file names cannot hold < > : \" | ? *";
    if (/[. ]$/.test(name)) return "Windows drops a file name's trailing dot or space";
    if (windowsDeviceName.test(name)) return `${name.split(".")[0]!.toUpperCase()} is a device name on Windows`;
    return undefined;
}

/**
 * A path a user gave for a file mixtral reads or writes, checked where Windows would misread its
 * name (the file name only: a folder with such a name cannot exist to be named). `a:b.json` is drive
 * A:'s b.json there, as Windows reads it, so only a colon after the first letter counts.
 */
export function windowsPathProblem(file: string, platform: NodeJS.Platform = process.platform): string | undefined {
    if (platform !== "win32") return undefined;
    const name = path.win32.basename(file);
    return name === "" || name === "." || name === ".." ? undefined : windowsNameProblem(name);
}
