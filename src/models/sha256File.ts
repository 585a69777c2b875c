import {createHash} from "node:crypto";
import {createReadStream} from "node:fs";

/** Large reads keep hashing near sha256sum's speed; Node's default 64 KiB chunks cost ~20%. */
const readChunkBytes = 4 * 1024 * 1024;

/** The sha256 of a file as lowercase hex, reporting bytes hashed so far. */
export async function sha256File(file: string, options: {onProgress?: (bytes: number) => void, signal?: AbortSignal} = {}): Promise<string> {
    const hash = createHash("sha256");
    let bytes = 0;
    const stream = createReadStream(file, {highWaterMark: readChunkBytes, signal: options.signal});
    for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
        options.onProgress?.(bytes);
    }
    return hash.digest("hex");
}

/** A sha256 from an ETag-like header (`"<hex>"`, `W/"<hex>"`), or undefined when it is not one. */
export function sha256FromEtag(value: string | null | undefined): string | undefined {
    if (value == null) return undefined;
    const hex = value.trim().replace(/^W\//, "").replace(/^"|"$/g, "").toLowerCase();
    return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}
