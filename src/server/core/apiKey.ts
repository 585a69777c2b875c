import {createHash, timingSafeEqual} from "node:crypto";

/**
 * Checks `Authorization: Bearer <key>` in constant time: both sides are hashed first, so neither
 * the key's length nor a matching prefix shows in the timing. The key itself is never logged.
 */
export function apiKeyChecker(expected: string): (authorization: string | undefined) => boolean {
    const expectedDigest = digest(expected);
    return (authorization) => {
        const match = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? "");
        // Hash something even when the header is missing, so that case takes the same time.
        const given = digest(match?.[1] ?? "");
        return timingSafeEqual(given, expectedDigest) && match != null;
    };
}

function digest(text: string): Buffer {
    return createHash("sha256").update(text, "utf8").digest();
}
