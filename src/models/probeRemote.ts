import {setTimeout as sleep} from "node:timers/promises";
import {DownloadError} from "../errors.js";
import {assertAllowedUrl, assertNotWebPage, authHeaders, maxRedirects, redactToken, redirectTarget, tooManyRedirects} from "./huggingFace.js";
import {retryAfterMs, retryDelay, unknownHostError} from "./retryRules.js";
import {sha256FromEtag} from "./sha256File.js";

export type RemoteFile = {
    /** Content length, when the server tells. */
    bytes?: number,
    /** The sha256 the server vouches for (Hugging Face's X-Linked-Etag for LFS files). */
    sha256?: string
};

export type RetryPolicy = {attempts: number, baseDelayMs: number, stallMs: number};

/** Transient trouble worth another try: server errors, rate limits, resets, timeouts. */
class TransientError extends Error {
    /** The server's Retry-After, when it sent one. */
    retryAfterMs?: number;
}

/**
 * Asks for the file's headers before any byte is written: size (for the disk check), the sha256
 * Hugging Face serves in X-Linked-Etag (on the redirect, which is why redirects are followed by
 * hand), and whether the answer is a file at all — a 404, a login wall or an HTML error page fail
 * here with a sentence instead of becoming 26 GB of garbage.
 */
export async function probeRemote(url: string, policy: RetryPolicy, options: {signal?: AbortSignal, env?: NodeJS.ProcessEnv, onRetry?: (attempt: number, delayMs: number, reason: string) => void} = {}): Promise<RemoteFile> {
    for (let attempt = 1; ; attempt++) {
        try {
            return await probeOnce(url, options.env, options.signal, policy.stallMs);
        } catch (error) {
            if (!(error instanceof TransientError) || attempt >= policy.attempts || options.signal?.aborted === true) {
                if (error instanceof TransientError)
                    throw new DownloadError(`Cannot reach the download server: ${error.message}`, {hint: "Check the network (and HF_ENDPOINT), then run the command again.", cause: error});
                throw error;
            }
            const delayMs = retryDelay(backoffDelay(policy.baseDelayMs, attempt), error.retryAfterMs, "The download server");
            options.onRetry?.(attempt, delayMs, error.message);
            await sleep(delayMs, undefined, {signal: options.signal});
        }
    }
}

/** Exponential backoff with jitter, capped at 30 s. */
export function backoffDelay(baseDelayMs: number, attempt: number): number {
    return Math.min(30_000, baseDelayMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
}

async function probeOnce(url: string, env: NodeJS.ProcessEnv = process.env, signal: AbortSignal | undefined, stallMs: number): Promise<RemoteFile> {
    let current = url;
    let linkedSha: string | undefined;
    let linkedSize: number | undefined;
    for (let hop = 0; hop <= maxRedirects; hop++) {
        assertAllowedUrl(current, env);
        // Outside the try: a bad HF_TOKEN is the user's to fix, not network trouble to retry.
        const headers = {"accept-encoding": "identity", ...authHeaders(current, env, url)};
        let response: Response;
        try {
            response = await fetch(current, {
                method: "HEAD",
                redirect: "manual",
                headers,
                signal: signal == null ? AbortSignal.timeout(stallMs) : AbortSignal.any([signal, AbortSignal.timeout(stallMs)])
            });
        } catch (error) {
            signal?.throwIfAborted();
            const unknownHost = unknownHostError(error, current);
            if (unknownHost != null) throw unknownHost;
            throw new TransientError(redactToken(describeFetchError(error), env), {cause: error});
        }
        linkedSha ??= sha256FromEtag(response.headers.get("x-linked-etag"));
        linkedSize ??= parseSize(response.headers.get("x-linked-size"));
        const location = response.headers.get("location");
        if (response.status >= 300 && response.status < 400 && location != null) {
            current = redirectTarget(location, current);
            continue;
        }
        const where = `${new URL(current).origin}${new URL(current).pathname}`;
        if (response.status >= 500 || response.status === 429 || response.status === 408) {
            const busy = new TransientError(`the server answered ${response.status} ${response.statusText} for ${where}`);
            busy.retryAfterMs = retryAfterMs(response.headers.get("retry-after"));
            throw busy;
        }
        if (response.status === 401 || response.status === 403)
            throw new DownloadError(`The server refused access to ${where} (${response.status}).`, {
                hint: "Gated or private repositories need a Hugging Face token: export HF_TOKEN=<token> (it is never printed)."
            });
        if (response.status === 404)
            throw new DownloadError(`No such file on the server: ${where} (404).`, {hint: "Check the name with `mixtral models`, and HF_ENDPOINT if you set it."});
        if (response.status < 200 || response.status >= 300)
            throw new DownloadError(`The server answered ${response.status} ${response.statusText} for ${where}.`, {hint: "Run the command again later; if it persists, check the URL."});
        assertNotWebPage(response.headers.get("content-type") ?? undefined, where);
        return {
            bytes: linkedSize ?? parseSize(response.headers.get("content-length")),
            sha256: linkedSha ?? sha256FromEtag(response.headers.get("etag"))
        };
    }
    throw tooManyRedirects(url);
}

function parseSize(value: string | null): number | undefined {
    if (value == null || !/^\d+$/.test(value.trim())) return undefined;
    return Number(value);
}

function describeFetchError(error: unknown): string {
    if (error instanceof Error) {
        if (error.name === "TimeoutError") return "the server did not answer in time";
        const cause = error.cause as {code?: string, message?: string} | undefined;
        return cause?.code ?? cause?.message ?? error.message;
    }
    return String(error);
}
