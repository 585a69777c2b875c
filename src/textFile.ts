import fs from "node:fs/promises";

/**
 * Text files as Windows tools write them, read as Linux tools do. Notepad and many editors put a
 * UTF-8 byte-order mark first; Windows PowerShell 5.1 writes UTF-16LE with a BOM for `>` and
 * `Out-File`; a few tools write UTF-16BE. The mark says which; without one, UTF-8.
 */
export function decodeText(bytes: Buffer): string {
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString("utf8");
    if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString("utf16le");
    if (bytes[0] === 0xfe && bytes[1] === 0xff) {
        // Node has no UTF-16BE decoder: swap each pair into little-endian order (an odd last byte is dropped).
        const body = Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)));
        return body.swap16().toString("utf16le");
    }
    return bytes.toString("utf8");
}

/** Whether the bytes start with a UTF-16 byte-order mark (little- or big-endian). */
export function isUtf16(bytes: Buffer): boolean {
    return (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
}

/** The first line of a stream read line by line (stdin with --lines) without the UTF-8 BOM a Windows tool put before it. */
export function withoutLeadingBom(line: string): string {
    return line.startsWith("\uFEFF") ? line.slice(1) : line;
}

/** Reads a text file in UTF-8 (with or without a BOM) or UTF-16 with a BOM. */
export async function readTextFile(path: string): Promise<string> {
    return decodeText(await fs.readFile(path));
}
