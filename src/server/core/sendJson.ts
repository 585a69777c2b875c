import type {ServerResponse} from "node:http";

/** One JSON answer; after a stream has started (headers sent) it can only end the response. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    if (response.headersSent) {
        response.end();
        return;
    }
    const text = JSON.stringify(body);
    response.writeHead(status, {"Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers});
    response.end(text);
}
