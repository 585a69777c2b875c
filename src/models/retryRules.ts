import {DownloadError} from "../errors.js";

/** The longest Retry-After we wait for; a server asking for more is reported instead of waited on. */
export const maxRetryAfterMs = 5 * 60_000;

/**
 * A server's Retry-After (seconds, or an HTTP date) in milliseconds; undefined when absent or
 * unreadable. Clamped at 0 for a date in the past.
 */
export function retryAfterMs(header: string | string[] | null | undefined, now = Date.now()): number | undefined {
    const value = Array.isArray(header) ? header[0] : header;
    if (value == null || value.trim() === "") return undefined;
    if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
    const date = Date.parse(value);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The wait before the next attempt: the server's Retry-After when it sent one, else our backoff. */
export function retryDelay(backoffMs: number, serverAskedMs: number | undefined, where: string): number {
    if (serverAskedMs == null) return backoffMs;
    if (serverAskedMs > maxRetryAfterMs)
        throw new DownloadError(`${where} is busy and asks to come back in ${Math.ceil(serverAskedMs / 60_000)} minutes.`, {
            hint: "Run the same command again later; the bytes received so far are kept."
        });
    return serverAskedMs;
}

/**
 * A host name that does not exist (ENOTFOUND) will not appear by asking again: offline, or a typo
 * in the URL or HF_ENDPOINT. A temporary DNS failure (EAI_AGAIN) is still retried.
 */
export function unknownHostError(error: unknown, url: string): DownloadError | undefined {
    let current: unknown = error;
    for (let depth = 0; depth < 4 && current != null; depth++) {
        if ((current as {code?: unknown}).code === "ENOTFOUND")
            return new DownloadError(`Cannot find the server ${new URL(url).host}: its name does not resolve (offline, or a typo in the address?).`, {
                hint: "Check the network connection, the URL and HF_ENDPOINT, then run the command again.",
                cause: error
            });
        current = (current as {cause?: unknown}).cause;
    }
    return undefined;
}
