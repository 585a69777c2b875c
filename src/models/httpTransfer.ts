import fsSync from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import {retryAfterMs} from "./retryRules.js";
import {assertAllowedUrl, assertNotWebPage, authHeaders, maxRedirects, redirectTarget, tooManyRedirects} from "./huggingFace.js";

export type TransferProgress = {downloadedBytes: number, totalBytes: number, bytesPerSecond: number};

export type TransferOptions = {
    url: string,
    /** Where the bytes land while in transit: appended in order, so its size is always the point to resume from. */
    file: string,
    /** The file's size when known (from the probe): a longer body is an error, a shorter one a cut to resume. */
    totalBytes?: number,
    env?: NodeJS.ProcessEnv,
    signal?: AbortSignal,
    /** No byte for this long (waiting for headers or mid-body) ends the attempt with a StallError. */
    stallMs: number,
    /** The ETag (or Last-Modified) the bytes already on disk came with: sent as If-Range on a resume. */
    validator?: string,
    /** The validator of the bytes being written now (to remember for the next resume). */
    onValidator?: (validator: string | undefined) => void | Promise<void>,
    onProgress?: (progress: TransferProgress) => void
};

/** The connection went quiet for stallMs. */
export class StallError extends Error {}

/** The body went on past the size the server (or the probe) announced: retrying would only repeat it. */
export class OversizedBodyError extends Error {
    constructor(announcedBytes: number) {
        super(`the server sent more than it announced (${announcedBytes} bytes)`);
    }
}

/**
 * The server's whole file is another size than the one expected (the catalog's exact size, or the
 * probe's): no retry or resume can make it the right file.
 */
export class SizeMismatchError extends Error {
    constructor(readonly serverBytes: number, readonly expectedBytes: number) {
        super(`the server's file is ${serverBytes} bytes, not ${expectedBytes}`);
    }
}

/** The server answered with an error status; `statusCode` tells the caller whether to retry. */
export class HttpStatusError extends Error {
    constructor(message: string, readonly statusCode: number, readonly retryAfterMs?: number) {
        super(message);
    }
}

/**
 * Bytes gathered before one positioned write. Written synchronously, like curl: a 256 KiB write
 * into the page cache takes well under a millisecond, and on this machine it beat bigger batches
 * written from the thread pool (1–16 MiB: more CPU, more variance) and one write per socket read.
 */
const writeBatchBytes = 256 * 1024;
/** On a slow link, still put what arrived on disk at least this often (a kill -9 loses at most that much). */
const writeEveryMs = 1000;
const progressEveryMs = 200;

/**
 * One attempt at fetching `url` into `file` over a single node:http(s) connection, resuming at the
 * file's current size with `Range` (and `If-Range` when the bytes on disk have a validator). Follows
 * redirects by hand (Hugging Face sends /resolve/ to its CDN): every hop must be https (or the
 * HF_ENDPOINT origin), and HF_TOKEN goes only to the first host, never to the CDN. The body is
 * gathered into one reused buffer and written sequentially through one file handle; whatever
 * arrived is written even when the attempt fails or is aborted, so the next attempt resumes after
 * it. Resolves once the whole body is written (not fsynced: the caller syncs before the rename that
 * makes the file usable); retrying is the caller's job.
 */
export async function fetchToFile(options: TransferOptions): Promise<void> {
    const env = options.env ?? process.env;
    const handle = await fs.open(options.file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    let position = (await handle.stat()).size;
    // One reused buffer, written when full: curl's pattern, and measured the fastest here.
    const batch = Buffer.allocUnsafe(writeBatchBytes);
    let fill = 0;
    const writeBatch = () => {
        for (let offset = 0; offset < fill;) offset += fsSync.writeSync(handle.fd, batch, offset, fill - offset, position + offset);
        position += fill;
        fill = 0;
    };
    const startAfresh = async () => {
        await handle.truncate(0);
        position = 0;
    };
    try {
        if (options.totalBytes != null && position > options.totalBytes) await startAfresh();
        if (options.totalBytes != null && position === options.totalBytes) return;

        const {request, response, stalled} = await openBody(options, position, env);
        try {
            const serverBytes = wholeSizeOf(response);
            if (options.totalBytes != null && serverBytes != null && serverBytes !== options.totalBytes)
                throw new SizeMismatchError(serverBytes, options.totalBytes);
            if (response.statusCode === 416) {
                // Nothing left to send: complete if the server's size is ours, else the bytes on disk are not its file.
                const size = Number(/^bytes \*\/(\d+)$/.exec(response.headers["content-range"] ?? "")?.[1] ?? NaN);
                if (size === position && options.totalBytes == null) return;
                const asked = position;
                await startAfresh();
                throw new Error(`the server cannot resume at byte ${asked} (416)`);
            }
            const first = Number(/^bytes (\d+)-/.exec(response.headers["content-range"] ?? "")?.[1] ?? NaN);
            if (response.statusCode === 206 && first !== position)
                throw new Error(`the server resumed at byte ${first} instead of ${position}`);
            // The server ignored the range, or If-Range found the file changed: start again from zero.
            if (response.statusCode === 200 && position > 0) await startAfresh();
            await options.onValidator?.(validatorOf(response));
            const contentLength = Number(response.headers["content-length"] ?? NaN);
            const totalBytes = options.totalBytes ?? (Number.isFinite(contentLength) ? position + contentLength : 0);
            // The smallest size anyone announced bounds what is written: a hostile or broken server
            // streaming without end must not fill the disk.
            const limit = announcedEnd(response, position, options.totalBytes);

            const start = position;
            let received = 0;
            let lastWriteAt = Date.now();
            let lastProgressAt = 0;
            const speed = speedMeter();
            try {
                for await (const whole of response as AsyncIterable<Buffer>) {
                    const chunk = start + received + whole.length > limit ? whole.subarray(0, Math.max(0, limit - start - received)) : whole;
                    received += chunk.length;
                    for (let offset = 0; offset < chunk.length;) {
                        const copied = chunk.copy(batch, fill, offset);
                        fill += copied;
                        offset += copied;
                        if (fill === batch.length) writeBatch();
                    }
                    if (chunk !== whole) throw new OversizedBodyError(limit);
                    const now = Date.now();
                    if (now - lastWriteAt >= writeEveryMs) {
                        writeBatch();
                        lastWriteAt = now;
                    }
                    if (now - lastProgressAt >= progressEveryMs) {
                        lastProgressAt = now;
                        options.onProgress?.({downloadedBytes: start + received, totalBytes, bytesPerSecond: speed(now, start + received)});
                    }
                }
            } catch (error) {
                if (error instanceof OversizedBodyError) throw error;
                if (stalled()) throw new StallError("no data", {cause: error});
                throw error;
            }
            if (!response.complete || (options.totalBytes != null && start + received !== options.totalBytes))
                throw new Error(`the connection closed after ${start + received} of ${totalBytes} bytes`);
            writeBatch();
            options.onProgress?.({downloadedBytes: start + received, totalBytes: start + received, bytesPerSecond: speed(Date.now(), start + received)});
        } finally {
            // Every way out (a refused resume, a failed truncate, a cut) closes the socket and its stall timer.
            request.destroy();
        }
    } finally {
        // Bytes that arrived before a cut, a stall or Ctrl+C are good: keep them for the resume.
        try {
            writeBatch();
        } finally {
            await handle.close();
        }
    }
}

/** Sends the GET (following redirects) and returns a 200/206/416 response ready to read, or throws. */
async function openBody(options: TransferOptions, position: number, env: NodeJS.ProcessEnv) {
    let current = options.url;
    for (let hop = 0; hop <= maxRedirects; hop++) {
        assertAllowedUrl(current, env);
        const url = new URL(current);
        const headers: Record<string, string> = {
            "accept-encoding": "identity",
            "user-agent": "mixtral",
            // Always a range, even from zero: the server says 206 and the size it will send.
            range: `bytes=${position}-`,
            ...(position > 0 && options.validator != null ? {"if-range": options.validator} : {}),
            ...authHeaders(current, env, options.url)
        };
        let stalled = false;
        const request = (url.protocol === "https:" ? https : http).get(url, {headers, agent: false, signal: options.signal});
        request.setTimeout(options.stallMs, () => {
            stalled = true;
            request.destroy(new StallError("no data"));
        });
        let response: http.IncomingMessage;
        try {
            response = await new Promise<http.IncomingMessage>((resolve, reject) => {
                request.once("response", resolve);
                request.once("error", reject);
            });
        } catch (error) {
            if (stalled) throw new StallError("no data", {cause: error});
            throw error;
        }
        // Errors after this point surface through the response's iteration.
        request.on("error", () => {});
        response.on("error", () => {});
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (status >= 300 && status < 400 && location != null) {
            request.destroy();
            current = redirectTarget(location, current);
            continue;
        }
        try {
            if (status !== 200 && status !== 416 && status !== 206) throw new HttpStatusError(`the server answered ${status}`, status, retryAfterMs(response.headers["retry-after"]));
            assertNotWebPage(response.headers["content-type"], `${url.origin}${url.pathname}`);
        } catch (error) {
            request.destroy();
            throw error;
        }
        return {request, response, stalled: () => stalled};
    }
    throw tooManyRedirects(options.url);
}

/** The byte offset the body must end at: the least of the probed size, Content-Range's and Content-Length's. */
function announcedEnd(response: http.IncomingMessage, position: number, probedBytes: number | undefined): number {
    const ends = [probedBytes ?? Infinity];
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers["content-range"] ?? "");
    if (response.statusCode === 206 && range != null) ends.push(Number(range[2]) + 1);
    const contentLength = Number(response.headers["content-length"] ?? NaN);
    if (Number.isFinite(contentLength)) ends.push((response.statusCode === 206 ? position : 0) + contentLength);
    return Math.min(...ends);
}

/** The whole file's size as this response gives it: Content-Range's total (206, 416), else a 200's Content-Length. */
function wholeSizeOf(response: http.IncomingMessage): number | undefined {
    const total = /\/(\d+)$/.exec(response.headers["content-range"] ?? "")?.[1];
    if (total != null) return Number(total);
    const length = response.headers["content-length"];
    return response.statusCode === 200 && length != null && /^\d+$/.test(length) ? Number(length) : undefined;
}

/** A strong ETag, else Last-Modified: what If-Range may carry. */
function validatorOf(response: http.IncomingMessage): string | undefined {
    const etag = response.headers.etag;
    if (etag != null && !etag.startsWith("W/")) return etag;
    return response.headers["last-modified"];
}

/** Bytes per second over the last few seconds. */
function speedMeter() {
    const samples: [number, number][] = [];
    return (now: number, bytes: number) => {
        samples.push([now, bytes]);
        while (samples.length > 2 && now - samples[1]![0] >= 5000) samples.shift();
        const [then, before] = samples[0]!;
        return now - then >= 200 ? ((bytes - before) * 1000) / (now - then) : 0;
    };
}

/**
 * Where fetchToFile will resume `file`: its size, since it is a prefix of the download, or zero
 * when it is longer than the download (fetchToFile starts such a file afresh).
 */
export async function resumeOffset(file: string, totalBytes: number | undefined): Promise<number> {
    const size = await fs.stat(file).then((stat) => stat.size, () => 0);
    return totalBytes != null && size > totalBytes ? 0 : size;
}
