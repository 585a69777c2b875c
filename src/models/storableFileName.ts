import {UsageError} from "../errors.js";
import {windowsNameProblem} from "../windowsPaths.js";

/**
 * The longest file name the store can keep: most file systems allow 255 bytes a name, and a
 * download in progress carries a `.download` suffix under .partial/.
 */
export const maxStoredNameBytes = 255 - ".download".length;

/**
 * Decodes one percent-encoded path segment of a model URL into a name the store can use, or says in
 * one sentence why it cannot: bad percent-encoding, a NUL or slash inside the name, a name too long.
 */
export function storableFileName(segment: string, where: string, platform: NodeJS.Platform = process.platform): string {
    let name: string;
    try {
        name = decodeURIComponent(segment);
    } catch (error) {
        throw new UsageError(`The file name "${segment}" in ${where} has invalid percent-encoding.`, {
            hint: "Each % must start a valid escape such as %20; copy the URL again from its page.",
            cause: error
        });
    }
    assertStorableName(name, where, platform);
    return name;
}

export function assertStorableName(name: string, where: string, platform: NodeJS.Platform = process.platform) {
    if (/[\u0000-\u001f/\\]/.test(name))
        throw new UsageError(`The file name in ${where} contains a control character or a slash, which no file name may hold.`, {
            hint: "Check the URL: it must end with the .gguf file's plain name."
        });
    const bytes = Buffer.byteLength(name);
    if (bytes > maxStoredNameBytes)
        throw new UsageError(`The file name in ${where} is ${bytes} bytes long; the store keeps names of up to ${maxStoredNameBytes} bytes.`, {
            hint: "Download it under a shorter name yourself and pass that file's path to --model."
        });
    // NTFS: `ab:c.gguf` would write an alternate data stream of a file `ab`, and so on (windowsPaths.ts).
    if (platform === "win32" && windowsNameProblem(name) != null)
        throw new UsageError(`The file name in ${where} ("${name}") is not allowed on Windows.`, {
            hint: "Download it under another name yourself and pass that file's path to --model."
        });
}
