import type {IncomingMessage} from "node:http";
import {ApiError} from "./apiError.js";

/** Requests larger than this are refused with 413 before they are parsed. */
export const maxBodyBytes = 4 * 1024 * 1024;

/** Reads and parses a JSON body, refusing one over `limit` bytes (413) or not JSON (400). */
export async function readJsonBody(request: IncomingMessage, limit = maxBodyBytes): Promise<unknown> {
    const declared = Number(request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) throw tooLarge(limit);
        chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    try {
        return JSON.parse(text);
    } catch {
        throw new ApiError(400, "We could not parse the JSON body of your request.", {code: "invalid_json"});
    }
}

function tooLarge(limit: number): ApiError {
    return new ApiError(413, `The request body is larger than ${limit / 1024 / 1024} MB.`, {code: "request_too_large"});
}
