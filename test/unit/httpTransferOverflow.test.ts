import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {afterEach, beforeEach, describe, expect, test} from "vitest";
import {fetchToFile} from "../../src/models/httpTransfer.js";

/**
 * A hostile server written on a raw socket (node:http refuses to send more than its own
 * Content-Length): it announces a size and then sends bytes without end.
 */
type Hostile = {url: string, sentBytes: () => number, close: () => Promise<void>};

function startEndlessServer(headers: (rangeStart: number) => string): Promise<Hostile> {
    const sockets = new Set<net.Socket>();
    let sent = 0;
    const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on("error", () => {});
        socket.once("data", (request) => {
            const rangeStart = Number(/range: bytes=(\d+)-/i.exec(request.toString("latin1"))?.[1] ?? 0);
            socket.write(headers(rangeStart));
            const chunk = Buffer.alloc(64 * 1024, 0x41);
            const pump = () => {
                while (!socket.destroyed && sent < 64 * 1024 * 1024) {
                    sent += chunk.length;
                    if (!socket.write(chunk)) {
                        socket.once("drain", pump);
                        return;
                    }
                }
            };
            pump();
        });
    });
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
        const {port} = server.address() as net.AddressInfo;
        resolve({
            url: `http://127.0.0.1:${port}/model.gguf`,
            sentBytes: () => sent,
            close: () => new Promise((done) => {
                for (const socket of sockets) socket.destroy();
                server.close(() => done());
            })
        });
    }));
}

let dir: string;
let server: Hostile | undefined;
beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-overflow-"));
});
afterEach(async () => {
    await server?.close();
    server = undefined;
    fs.rmSync(dir, {recursive: true, force: true});
});

const announced = 100_000;
// Plain http is allowed only for the HF_ENDPOINT origin, as in every local download test.
const envFor = (url: string) => ({HF_ENDPOINT: new URL(url).origin});

describe("a server that sends more than it announced", () => {
    test("Content-Range announces the size, then the body never ends: stops at the size", async () => {
        server = await startEndlessServer((start) =>
            `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes ${start}-${announced - 1}/${announced}\r\nConnection: close\r\n\r\n`);
        const file = path.join(dir, "in-transit");
        await expect(fetchToFile({url: server.url, file, env: envFor(server.url), stallMs: 10_000}))
            .rejects.toThrow(/the server sent more than it announced/);
        expect(fs.statSync(file).size).toBeLessThanOrEqual(announced);
    });

    test("the probed size is known and the chunked body never ends: stops at the size", async () => {
        server = await startEndlessServer(() =>
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        const file = path.join(dir, "in-transit");
        await expect(fetchToFile({url: server.url, file, env: envFor(server.url), stallMs: 10_000, totalBytes: announced}))
            .rejects.toThrow(/the server sent more than it announced/);
        expect(fs.statSync(file).size).toBeLessThanOrEqual(announced);
    });
});
