import type {Server} from "node:http";
import http from "node:http";
import net from "node:net";
import type {AddressInfo} from "node:net";
import {afterEach, describe, expect, test} from "vitest";
import {createHttpServer, type HttpServer} from "../../src/server/core/httpServer.js";
import {readJsonBody} from "../../src/server/core/readJsonBody.js";
import type {Route} from "../../src/server/core/routeTable.js";
import {sendJson} from "../../src/server/core/sendJson.js";
import {createServerCore} from "../../src/server/core/serverCore.js";
import {sendOpenAiError} from "../../src/server/openai/errorShape.js";
import {openRequest} from "../../src/remote/httpRequest.js";

// The transport's connection handling on a real socket: refusals a client still sending can read,
// requests that never arrive, and what shutdown closes. No model: the rows are made up here.
let http1: HttpServer | undefined;
afterEach(async () => {
    const server: Server | undefined = http1?.server;
    http1 = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server == null ? resolve() : server.close(() => resolve()));
});

const rows: Route[] = [
    {method: "POST", path: "/echo", handler: async ({request, response}) => sendJson(response, 200, {body: await readJsonBody(request)})},
    // Answers 600 ms after its body arrived: longer than the body timeout of the tests that use it.
    {method: "POST", path: "/slow", handler: async ({request, response}) => {
        await readJsonBody(request);
        await new Promise((resolve) => setTimeout(resolve, 600));
        sendJson(response, 200, {slow: true});
    }}
];

async function start(options: {apiKey?: string, bodyTimeoutMs?: number} = {}) {
    const core = createServerCore({modelId: "tiny", log: () => {}});
    http1 = createHttpServer(core, rows, {errors: sendOpenAiError, ...options});
    await new Promise<void>((resolve) => http1!.server.listen(0, "127.0.0.1", resolve));
    return {port: (http1.server.address() as AddressInfo).port, http: http1};
}

type RawExchange = {response: string, error?: string, closedAfterMs: number};

/**
 * A raw HTTP/1.1 client: sends `head` and then `body` in 64 kB writes, each after the last left the
 * buffer, and reads whatever comes back until the server closes (or `waitMs` passes).
 */
function rawExchange(port: number, head: string, body: Buffer, waitMs = 5000): Promise<RawExchange> {
    return new Promise((resolve) => {
        const startedAt = Date.now();
        const socket = net.connect(port, "127.0.0.1");
        let response = "";
        let error: string | undefined;
        const timer = setTimeout(() => socket.destroy(), waitMs);
        socket.on("data", (chunk) => response += chunk.toString("latin1"));
        socket.on("error", (failure: NodeJS.ErrnoException) => error ??= failure.code ?? failure.message);
        socket.on("close", () => {
            clearTimeout(timer);
            resolve({response, error, closedAfterMs: Date.now() - startedAt});
        });
        socket.on("connect", async () => {
            socket.write(head);
            for (let offset = 0; offset < body.length && !socket.destroyed; offset += 64 * 1024)
                if (!socket.write(body.subarray(offset, offset + 64 * 1024))) await new Promise((next) => socket.once("drain", next));
        });
    });
}

const bigBody = () => Buffer.from(JSON.stringify({prompt: "x".repeat(5 * 1024 * 1024)}));
const head = (path: string, length: number, extra = "") =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n${extra}\r\n`;

describe("refusals reach a client that is still sending its body", () => {
    test("413 over a raw Connection: close socket: the body is read first, so no reset", async () => {
        const {port} = await start();
        const body = bigBody();
        const exchange = await rawExchange(port, head("/echo", body.length), body);
        expect(exchange.error).toBeUndefined();
        expect(exchange.response).toMatch(/^HTTP\/1\.1 413 /);
        expect(exchange.response).toContain("\"code\":\"request_too_large\"");
    });

    test("our own client (agent: false, Connection: close) reports the 413, and the 401 of a key refused before the body", async () => {
        const {port} = await start();
        const endpoint = new URL(`http://127.0.0.1:${port}/v1`);
        const prompt = "x".repeat(5 * 1024 * 1024);
        await expect(openRequest({method: "POST", url: new URL(`http://127.0.0.1:${port}/echo`), endpoint, body: {prompt}}))
            .rejects.toThrow(/refused the request as too large \(HTTP 413\)/);
        await new Promise<void>((resolve) => http1!.server.close(() => resolve()));
        const keyed = await start({apiKey: "key"});
        await expect(openRequest({method: "POST", url: new URL(`http://127.0.0.1:${keyed.port}/echo`), endpoint, body: {prompt: prompt.slice(0, 3 * 1024 * 1024)}}))
            .rejects.toThrow(/refused the API key \(HTTP 401\)/);
    });
});

describe("requests that never arrive whole", () => {
    test("a body that stops coming gets 408 and a closed connection after the body timeout; a long answer after the body is not cut", async () => {
        const {port} = await start({bodyTimeoutMs: 300});
        const partial = await rawExchange(port, head("/echo", 100), Buffer.from("{\"prompt\": \"par"));
        expect(partial.response).toMatch(/^HTTP\/1\.1 408 /);
        expect(partial.closedAfterMs).toBeLessThan(2000);
        const headers = await rawExchange(port, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le", Buffer.alloc(0));
        expect(headers.response).toMatch(/^HTTP\/1\.1 408 /);
        expect(headers.closedAfterMs).toBeLessThan(2000);
        const body = Buffer.from("{}");
        const slow = await rawExchange(port, head("/slow", body.length), body);
        expect(slow.response).toMatch(/^HTTP\/1\.1 200 /);
        expect(slow.response).toContain("{\"slow\":true}");
    });

    test("at shutdown, connections whose request has not arrived are closed at once; one being answered finishes", async () => {
        const {port, http: served} = await start();
        const partialBody = rawExchange(port, head("/echo", 100), Buffer.from("{\"prompt\": \"par"));
        const partialHeaders = rawExchange(port, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le", Buffer.alloc(0));
        const answering = new Promise<{status: number, body: string}>((resolve, reject) => {
            const request = http.request({port, host: "127.0.0.1", path: "/slow", method: "POST", agent: false, headers: {"Content-Type": "application/json"}}, (response) => {
                let text = "";
                response.on("data", (chunk: Buffer) => text += chunk.toString());
                response.on("end", () => resolve({status: response.statusCode ?? 0, body: text}));
            });
            request.on("error", reject);
            request.end("{}");
        });
        // Every request has reached the server.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const closedAt = Date.now();
        served.server.close();
        served.closeUnfinishedRequests();
        const [body, headers] = await Promise.all([partialBody, partialHeaders]);
        expect(body.response).toBe("");
        expect(headers.response).toBe("");
        expect(Date.now() - closedAt).toBeLessThan(300);
        expect(await answering).toEqual({status: 200, body: "{\"slow\":true}"});
    });
});
