import http from "node:http";
import type {AddressInfo} from "node:net";
import {afterEach} from "vitest";
import {parseEndpoint} from "../../../src/remote/endpointUrl.js";

/**
 * A small HTTP server on 127.0.0.1 that answers as the test says: the protocol corner cases and
 * hostile answers a real server does not produce on demand. Every server a test starts is closed
 * after it, its connections cut.
 */
export type Handler = (request: http.IncomingMessage, response: http.ServerResponse, body: string) => void;

const servers: http.Server[] = [];

/** The handler runs once the request body is read; resolves with the server's /v1 base URL. */
export async function fakeServer(handler: Handler): Promise<URL> {
    const server = http.createServer((request, response) => {
        let body = "";
        request.setEncoding("utf8").on("data", (chunk: string) => { body += chunk; });
        request.on("end", () => handler(request, response, body));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return parseEndpoint(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`);
}

/** Stops the most recent server (its port then refuses connections). */
export async function stopLastServer(): Promise<void> {
    const server = servers.pop();
    if (server != null) await new Promise((resolve) => server.close(resolve));
}

afterEach(async () => {
    for (const server of servers.splice(0)) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
    }
});

export const streamHeaders = {"content-type": "text/event-stream"};

/** One /completions stream chunk. */
export const chunk = (text: string, finish: string | null = null) =>
    `data: ${JSON.stringify({choices: [{index: 0, text, finish_reason: finish}]})}\n\n`;

/**
 * Writes `piece` until `limit` bytes went out or the client left, minding back-pressure; resolves
 * with the bytes written. An "endless" body, bounded so that a client that reads it all still ends.
 */
export async function writeUntilClosed(response: http.ServerResponse, piece: string | Buffer, limit: number): Promise<number> {
    let written = 0;
    let closed = false;
    const close = new Promise<void>((resolve) => response.on("close", () => {
        closed = true;
        resolve();
    }));
    while (!closed && written < limit) {
        written += Buffer.byteLength(piece);
        if (!response.write(piece)) await Promise.race([new Promise((resolve) => response.once("drain", resolve)), close]);
    }
    if (!closed) response.end();
    return written;
}
