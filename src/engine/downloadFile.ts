import fs from "node:fs/promises";
import {createModelDownloader} from "node-llama-cpp";

export type DownloadProgress = {downloadedBytes: number, totalBytes: number, bytesPerSecond: number};

export type DownloadFileOptions = {
    url: string,
    /** Folder and name the finished file gets (ipull writes `<name>.ipull` there until it is complete). */
    dirPath: string,
    fileName: string,
    headers?: Record<string, string>,
    onProgress?: (progress: DownloadProgress) => void,
    signal?: AbortSignal
};

/**
 * node-llama-cpp's downloader (ipull: parallel ranged connections, resume from the `.ipull` file,
 * retries on 5xx and dropped connections) behind a small surface. Policy — checksums, locking,
 * disk space, stalls, final names — is src/models/download.ts's job.
 */
export async function downloadFile(options: DownloadFileOptions): Promise<string> {
    const downloaderPromise = createModelDownloader({
        modelUri: options.url,
        dirPath: options.dirPath,
        fileName: options.fileName,
        headers: options.headers,
        // Never HF_TOKEN from node-llama-cpp's own lookup: the caller decides which host gets it.
        tokens: {huggingFace: null as unknown as undefined},
        // A cancelled download keeps its bytes: the next attempt resumes from them.
        deleteTempFileOnCancel: false,
        // A complete file under the staging name (a verification that was interrupted) is not fetched again.
        skipExisting: true,
        showCliProgress: false,
        onProgress: (status) => options.onProgress?.({
            downloadedBytes: status.downloadedSize,
            totalBytes: status.totalSize,
            bytesPerSecond: status.averageSpeed
        })
    });
    // Fetching the file's headers has no signal of its own: stop waiting for it on abort.
    const downloader = await abortable(downloaderPromise, options.signal);
    try {
        const file = await downloader.download({signal: options.signal});
        // ipull ends quietly when cancelled mid-transfer: an aborted download must not look finished.
        options.signal?.throwIfAborted();
        return file;
    } finally {
        if (options.signal?.aborted === true) await downloader.cancel({deleteTempFile: false}).catch(() => {});
    }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal == null) return promise;
    signal.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, {once: true});
        promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
}

/**
 * Bytes of `<file>.ipull` that a resume will not fetch again. ipull writes chunks at their offsets
 * (so the file's size says nothing) and appends its progress as JSON after the last byte of the
 * file: `{chunks: [0|1|2…], chunkSize}`, 2 meaning complete. Undefined when there is no usable state.
 */
export async function resumableBytes(partialFile: string, totalBytes: number): Promise<number | undefined> {
    let handle;
    try {
        handle = await fs.open(partialFile, "r");
    } catch {
        return undefined;
    }
    try {
        const size = (await handle.stat()).size;
        if (size <= totalBytes || size - totalBytes > 16 * 1024 * 1024) return undefined;
        const metadata = Buffer.alloc(size - totalBytes);
        await handle.read(metadata, 0, metadata.length, totalBytes);
        const progress = JSON.parse(metadata.toString("utf8")) as {chunks?: unknown, chunkSize?: unknown};
        if (!Array.isArray(progress.chunks) || typeof progress.chunkSize !== "number") return undefined;
        const complete = progress.chunks.filter((status) => status === completeChunk).length;
        return Math.min(totalBytes, complete * progress.chunkSize);
    } catch {
        return undefined;
    } finally {
        await handle.close();
    }
}

// ipull's ChunkStatus.COMPLETE.
const completeChunk = 2;
