import {statSync} from "node:fs";
import {stat} from "node:fs/promises";

/** What tells one file from another at the same path: a file replaced or rewritten has another one. */
export type FileIdentity = {size: number, mtimeMs: number, inode: number};

export async function fileIdentity(file: string): Promise<FileIdentity> {
    const info = await stat(file);
    return {size: info.size, mtimeMs: info.mtimeMs, inode: info.ino};
}

/**
 * The same, read synchronously (a few microseconds on a local disk), or undefined when the file is
 * gone or cannot be read. For a check before each request of a server: with libuv's pool at one
 * thread (bin/mixtral.js), an asynchronous stat would wait behind the llama.cpp decode running there.
 */
export function currentFileIdentity(file: string): FileIdentity | undefined {
    try {
        const info = statSync(file);
        return {size: info.size, mtimeMs: info.mtimeMs, inode: info.ino};
    } catch {
        return undefined;
    }
}

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
    return a.size === b.size && a.mtimeMs === b.mtimeMs && a.inode === b.inode;
}

/** How `now` differs from `before`, in a few words ("it was deleted", "its size went from 10 to 4 bytes", …). */
export function describeFileChange(before: FileIdentity, now: FileIdentity | undefined): string {
    if (now == null) return "it was deleted or can no longer be read";
    if (now.inode !== before.inode) return "another file was put in its place";
    if (now.size !== before.size) return `its size went from ${before.size} to ${now.size} bytes`;
    return "it was rewritten";
}
