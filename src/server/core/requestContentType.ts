import type {IncomingMessage} from "node:http";
import {HttpError} from "./httpError.js";

/**
 * Whether a JSON route takes a body sent with this request's Content-Type, else 415. JSON types
 * (`application/json`, with parameters such as `charset`, and any `…/…+json`) and no type at all
 * are taken. `curl -d` sends `application/x-www-form-urlencoded`, which llama-server and Ollama
 * parse as JSON anyway (neither looks at the type), so the docs' `curl -d '{…}'` lines keep working:
 * that type is taken from a client that is not a browser (no `Origin` header). A browser always sends
 * `Origin` on a POST, and the types a page may send without a preflight (`text/plain`, form types)
 * are exactly how a page would start a generation behind its user's back: from a browser, only JSON.
 */
export function checkJsonContentType(request: IncomingMessage): void {
    const header = request.headers["content-type"];
    if (header == null || header.trim() === "") return;
    const type = header.split(";")[0]!.trim().toLowerCase();
    if (type === "application/json" || /^[a-z0-9!#$&^_.-]+\/[a-z0-9!#$&^_.+-]+\+json$/.test(type)) return;
    if (type === "application/x-www-form-urlencoded" && request.headers.origin == null) return;
    throw new HttpError(415, `The request body must be JSON: send it with Content-Type: application/json, not ${type}.`, {code: "unsupported_media_type"});
}
