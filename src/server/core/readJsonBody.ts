import type {IncomingMessage} from "node:http";
import {HttpError} from "./httpError.js";
import {checkJsonContentType} from "./requestContentType.js";

/** Requests larger than this are refused with 413 before they are parsed. */
export const maxBodyBytes = 4 * 1024 * 1024;

/**
 * Reads and parses a JSON body, refusing one over `limit` bytes (413) or not JSON (400). An
 * oversized body is refused as soon as it is known; the transport reads the rest and drops it
 * before it sends the 413 (httpServer.ts). A body of another type than JSON is refused (415)
 * before it is read; a UTF-8 byte order mark in front of the JSON is skipped (Windows tools write
 * one; JSON.parse alone refuses it).
 */
export function readJsonBody(request: IncomingMessage, limit = maxBodyBytes): Promise<unknown> {
    return new Promise((resolve, reject) => {
        checkJsonContentType(request);
        const tooLarge = () => {
            request.removeAllListeners("data");
            request.resume();
            reject(new HttpError(413, `The request body is larger than ${limit / 1024 / 1024} MB.`, {code: "request_too_large"}));
        };
        const declared = Number(request.headers["content-length"]);
        if (Number.isFinite(declared) && declared > limit) return tooLarge();
        const chunks: Buffer[] = [];
        let size = 0;
        request.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) return tooLarge();
            chunks.push(chunk);
        });
        request.on("error", reject);
        request.on("end", () => {
            try {
                resolve(JSON.parse(Buffer.concat(chunks).toString("utf8").replace(/^\uFEFF/, "")));
            } catch {
                reject(new HttpError(400, "We could not parse the JSON body of your request.", {code: "invalid_json"}));
            }
        });
    });
}
