import {createHash} from "node:crypto";
import http from "node:http";
import type {AddressInfo, Socket} from "node:net";

/**
 * A real HTTP server on 127.0.0.1 that answers like Hugging Face: `/<owner>/<repo>/resolve/<rev>/<file>`
 * redirects (302) to a CDN path with the LFS sha256 in X-Linked-Etag and the size in X-Linked-Size;
 * the CDN path serves the bytes with Range, Content-Length and Accept-Ranges. Faults are injected
 * one at a time, to see what a pull does when the network misbehaves.
 */
export type Fault =
    | "none"
    /** The first transfer crossing 40% of the file loses its connection there. */
    | "cut"
    /** The first request answers 500, later ones succeed. */
    | "error500"
    /** Every transfer flips one byte in the middle of the file (the announced sha256 stays the true one). */
    | "corrupt"
    | "notFound"
    /** The resolve URL answers 200 with an HTML error page. */
    | "html"
    /** The first transfer crossing 40% stops sending there and keeps the connection open. */
    | "stall"
    /** Every transfer stops sending at 40%. */
    | "stallAlways"
    /** The first look (HEAD, the redirect) tells no size: only the transfer's Content-Range does. */
    | "noSizeInProbe";

export type FakeHuggingFace = {
    /** The endpoint to put in HF_ENDPOINT. */
    url: string,
    fault: Fault,
    /** Bytes per second per connection; 0 is unlimited. */
    throttleBytesPerSecond: number,
    /** How many times a one-shot fault (cut, stall, error500) has fired. */
    faultsFired: number,
    /** File body bytes sent, counting every connection. */
    bodyBytesSent: number,
    /** The part of bodyBytesSent answering Range requests (the transfers proper, not a first look). */
    rangedBytesSent: number,
    requests: {method: string, path: string, range?: string, authorization?: string}[],
    stop(): Promise<void>
};

export type HostedFile = {repo: string, file: string, data: Buffer};

export function sha256Of(data: Buffer): string {
    return createHash("sha256").update(data).digest("hex");
}

export async function startFakeHuggingFace(files: HostedFile[], options: {fault?: Fault, sendSha?: boolean} = {}): Promise<FakeHuggingFace> {
    const byPath = new Map(files.map((hosted) => [`${hosted.repo}/${hosted.file}`, {...hosted, sha256: sha256Of(hosted.data)}]));
    const sockets = new Set<Socket>();
    const fired = new Set<Fault>();
    const fireOnce = (fault: Fault) => {
        if (state.fault !== fault || fired.has(fault)) return false;
        fired.add(fault);
        state.faultsFired++;
        return true;
    };

    const server = http.createServer((request, response) => {
        const url = new URL(request.url ?? "/", "http://127.0.0.1");
        state.requests.push({method: request.method ?? "GET", path: url.pathname, range: request.headers.range, authorization: request.headers.authorization});
        if (fireOnce("error500")) {
            response.writeHead(500, {"content-type": "text/plain"}).end("Internal Error");
            return;
        }
        const resolve = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(url.pathname);
        const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
        const key = resolve != null ? `${resolve[1]}/${resolve[2]}` : cdn != null ? `${cdn[1]}/${cdn[2]}` : "";
        const hosted = byPath.get(decodeURIComponent(key));
        if (hosted == null || state.fault === "notFound") {
            response.writeHead(404, {"content-type": "text/plain", "x-error-code": "EntryNotFound"}).end("Entry not found");
            return;
        }
        if (resolve != null) {
            if (state.fault === "html") {
                response.writeHead(200, {"content-type": "text/html; charset=utf-8"}).end("<!doctype html><html><body><h1>Something went wrong</h1></body></html>");
                return;
            }
            response.writeHead(302, {
                location: `/cdn/${hosted.repo}/${hosted.file}`,
                ...(options.sendSha === false ? {} : {"x-linked-etag": `"${hosted.sha256}"`}),
                ...(state.fault === "noSizeInProbe" ? {} : {"x-linked-size": String(hosted.data.length)}),
                etag: `"git-oid-${hosted.sha256.slice(0, 40)}"`,
                "content-length": "0"
            }).end();
            return;
        }
        serveBytes(request, response, hosted.data);
    });

    function serveBytes(request: http.IncomingMessage, response: http.ServerResponse, data: Buffer) {
        const total = data.length;
        let start = 0;
        let end = total - 1;
        const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? "");
        if (range != null) {
            start = Number(range[1]);
            end = range[2] === "" ? total - 1 : Math.min(total - 1, Number(range[2]));
            if (start > end) {
                response.writeHead(416, {"content-range": `bytes */${total}`}).end();
                return;
            }
        }
        const sizeless = request.method === "HEAD" && state.fault === "noSizeInProbe";
        response.writeHead(range != null ? 206 : 200, {
            "content-type": "application/octet-stream",
            ...(sizeless ? {} : {"content-length": String(end - start + 1)}),
            "accept-ranges": "bytes",
            ...(range != null ? {"content-range": `bytes ${start}-${end}/${total}`} : {})
        });
        if (request.method === "HEAD") {
            response.end();
            return;
        }
        // Faults hit ranged transfers (the downloader's real work), not its first look at the headers.
        const faultAt = range != null ? Math.floor(total * 0.4) : -1;
        if (range != null && state.fault === "stallAlways" && start >= faultAt) {
            // A transfer resuming at or past the fault point: headers, then nothing, the connection kept open.
            response.flushHeaders();
            return;
        }
        let position = start;
        const piece = 64 * 1024;
        const sendMore = () => {
            while (position <= end) {
                if (response.destroyed) return;
                let next = Math.min(end + 1, position + piece);
                const reachesFault = faultAt >= 0 && position < faultAt && next >= faultAt;
                if (reachesFault) next = faultAt;
                const chunk = Buffer.from(data.subarray(position, next));
                if (state.fault === "corrupt") {
                    const middle = Math.floor(total / 2);
                    if (middle >= position && middle < next) chunk[middle - position] = (chunk[middle - position] ?? 0) ^ 0xff;
                }
                position = next;
                state.bodyBytesSent += chunk.length;
                if (range != null) state.rangedBytesSent += chunk.length;
                if (reachesFault && fireOnce("cut")) {
                    response.write(chunk, () => response.socket?.destroy());
                    return;
                }
                if (reachesFault && (fireOnce("stall") || state.fault === "stallAlways")) {
                    response.write(chunk);
                    return; // never ends: the socket stays open until the client gives up
                }
                const flushed = response.write(chunk);
                if (state.throttleBytesPerSecond > 0) {
                    setTimeout(sendMore, (chunk.length / state.throttleBytesPerSecond) * 1000);
                    return;
                }
                if (!flushed) {
                    response.once("drain", sendMore);
                    return;
                }
            }
            response.end();
        };
        sendMore();
    }

    server.on("connection", (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const {port} = server.address() as AddressInfo;
    const state: FakeHuggingFace = {
        url: `http://127.0.0.1:${port}`,
        fault: options.fault ?? "none",
        throttleBytesPerSecond: 0,
        faultsFired: 0,
        bodyBytesSent: 0,
        rangedBytesSent: 0,
        requests: [],
        stop: () => new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => resolve());
        })
    };
    return state;
}
