import net, {type AddressInfo} from "node:net";
import {describe, expect, it} from "vitest";
import {EndpointError} from "../../src/errors.js";
import {parseEndpoint} from "../../src/remote/endpointUrl.js";
import {listModelIds, requestCompletion} from "../../src/remote/openAiClient.js";
import {remoteGenerator} from "../../src/remote/remoteGenerator.js";
import {EventLineTooLong, ServerSentEventParser} from "../../src/remote/serverSentEvents.js";
import {samplingDefaults} from "../../src/generator/sampling.js";
import {chunk, fakeServer, streamHeaders, writeUntilClosed} from "./helpers/fakeOpenAiServer.js";

/**
 * The client against servers that misbehave on purpose (issue 22, items 3 and 4): it must neither
 * wait forever, nor read without bound, nor print what the server's bytes would do to a terminal.
 * Each server here is bounded in time and bytes, so a client without the limit fails the test
 * rather than hanging it.
 */
const short = {firstByteMs: 300, idleMs: 300};
const request = {route: "completions" as const, body: {}, stream: true};
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as EndpointError);

describe("client timeouts", () => {
    it("gives up on a POST that is never answered, in one sentence", async () => {
        const endpoint = await fakeServer(() => {});
        const failure = await failureOf(requestCompletion({baseUrl: endpoint, timeouts: short}, request));
        expect(failure).toBeInstanceOf(EndpointError);
        expect(failure?.message).toBe(`${endpoint.href} did not start answering within 0.3 s.`);
        expect(failure?.hint).toMatch(/--connect-timeout \(MIXTRAL_CONNECT_TIMEOUT\)/);
    }, 5000);

    it("gives up on stream headers followed by silence", async () => {
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(200, streamHeaders);
            response.flushHeaders();
        });
        const failure = await failureOf(requestCompletion({baseUrl: endpoint, timeouts: short}, request));
        expect(failure?.message).toBe(`${endpoint.href} did not start answering within 0.3 s.`);
    }, 5000);

    it("gives up on a stream kept open by keep-alive comments alone, and on one that never sends [DONE]", async () => {
        let comments = true;
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(200, streamHeaders);
            response.write(chunk("Hel"));
            if (!comments) return;
            let sent = 0;
            const timer = setInterval(() => {
                if (++sent > 100 || response.destroyed) clearInterval(timer);
                else response.write(": keep-alive\n\n");
            }, 50);
        });
        const pieces: string[] = [];
        const failure = await failureOf(requestCompletion({baseUrl: endpoint, timeouts: short}, {...request, onText: (text) => pieces.push(text)}));
        expect(pieces).toEqual(["Hel"]);
        expect(failure?.message).toBe(`${endpoint.href} sent nothing for 0.3 s in the middle of its answer.`);
        expect(failure?.hint).toMatch(/--idle-timeout \(MIXTRAL_IDLE_TIMEOUT\)/);
        comments = false;
        expect((await failureOf(requestCompletion({baseUrl: endpoint, timeouts: short}, request)))?.message).toMatch(/sent nothing for 0\.3 s/);
    }, 5000);

    it("gives up on an error body that never ends, and on a model list that never ends", async () => {
        let status = 500;
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(status, {"content-type": "application/json"});
            response.write("{\"error\": {\"message\": \"over");
        });
        const failure = await failureOf(requestCompletion({baseUrl: endpoint, timeouts: short}, request));
        expect(failure?.message).toBe(`${endpoint.href} sent nothing for 0.3 s in the middle of its answer.`);
        status = 200;
        expect((await failureOf(listModelIds({baseUrl: endpoint, timeouts: short})))?.message).toMatch(/sent nothing for 0\.3 s/);
    }, 5000);
});

describe("client limits against a hostile server", () => {
    it("refuses an event line without end after a bounded read", async () => {
        let written: Promise<number> = Promise.resolve(0);
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(200, streamHeaders);
            response.write("data: ");
            written = writeUntilClosed(response, "x".repeat(64 * 1024), 64 * 1024 * 1024);
        });
        const failure = await failureOf(requestCompletion({baseUrl: endpoint}, request));
        expect(failure?.message).toMatch(/did not answer like an OpenAI-compatible API \(an event line longer than 4 MiB\)\.$/);
        expect(await written).toBeLessThan(16 * 1024 * 1024);
    }, 20_000);

    it("scans a long line once, not once a chunk", () => {
        // 3 MiB in 256-byte pieces: re-scanning the whole line per piece is ~18 G characters.
        const parser = new ServerSentEventParser();
        const piece = "y".repeat(256);
        const started = performance.now();
        parser.push("data: ");
        for (let i = 0; i < 12 * 1024; i++) parser.push(piece);
        const [event] = [...parser.push("\n\n"), ...parser.end()];
        expect(event?.length).toBe(3 * 1024 * 1024);
        expect(performance.now() - started).toBeLessThan(2000);
        expect(() => new ServerSentEventParser(1024).push(`data: ${"z".repeat(2000)}`)).toThrow(EventLineTooLong);
    });

    it("reads an endless error body only up to a bound, and still reports the status", async () => {
        let written: Promise<number> = Promise.resolve(0);
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(500, {"content-type": "text/html"});
            written = writeUntilClosed(response, "<p>error</p>".repeat(5000), 64 * 1024 * 1024);
        });
        const failure = await failureOf(requestCompletion({baseUrl: endpoint}, request));
        expect(failure?.message).toBe(`${endpoint.href} failed (HTTP 500).`);
        expect(await written).toBeLessThan(8 * 1024 * 1024);
    }, 20_000);

    it("stops at -n text chunks whatever the server sends, as a max-tokens stop", async () => {
        let serverSawClose = false;
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(200, streamHeaders);
            response.on("close", () => { serverSawClose = true; });
            for (let i = 0; i < 50; i++) response.write(chunk(` w${i}`));
            response.end(chunk("", "stop") + "data: [DONE]\n\n");
        });
        const generator = remoteGenerator({baseUrl: endpoint, modelId: "m", modelLabel: "m"});
        const result = await generator.complete("x", {...samplingDefaults, maxTokens: 8, stop: []});
        expect(result.text).toBe(" w0 w1 w2 w3 w4 w5 w6 w7");
        expect(result.stopReason).toBe("maxTokens");
        await expect.poll(() => serverSawClose).toBe(true);
    });

    it("strips control characters from the server's messages before they reach a terminal", async () => {
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(400, {"content-type": "application/json"});
            response.end(JSON.stringify({error: {message: "\u001b[2J\u001b]0;owned\u0007bad\u009b31m value\r\nhere"}}));
        });
        const failure = await failureOf(requestCompletion({baseUrl: endpoint}, request));
        expect(failure?.message).toBe(`${endpoint.href} refused the request (HTTP 400): [2J]0;ownedbad31m value here.`);
    });

    it("says the server closed the connection mid-answer after partial text, not that it cannot be reached", async () => {
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(200, streamHeaders);
            response.write(chunk("partial"), () => setTimeout(() => response.socket?.destroy(), 20));
        });
        const pieces: string[] = [];
        const failure = await failureOf(requestCompletion({baseUrl: endpoint}, {...request, onText: (text) => pieces.push(text)}));
        expect(pieces).toEqual(["partial"]);
        expect(failure?.message).toBe(`${endpoint.href} closed the connection mid-answer.`);
        expect(failure?.hint).toMatch(/only part of the answer/);
    });

    it("names a redirect as a redirect and does not follow it", async () => {
        let followed = false;
        const elsewhere = await fakeServer((_request, response) => {
            followed = true;
            response.end();
        });
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(307, {location: `${elsewhere.href}/completions`});
            response.end();
        });
        const failure = await failureOf(requestCompletion({baseUrl: endpoint, apiKey: "sk-secret"}, request));
        expect(failure?.message).toBe(`${endpoint.href} redirects to ${elsewhere.href}/completions (HTTP 307).`);
        expect(failure?.hint).toMatch(/--endpoint/);
        expect(followed).toBe(false);
    });
});

describe("a refusal the server sends before reading the body", () => {
    it("reports the 413 of a server that closes while the client still sends, not \"Cannot reach\"", async () => {
        // As a server that checks Content-Length and answers at once: the 413, then the socket closed
        // with the body unread (the client's writes then fail with EPIPE or a reset).
        const server = net.createServer((socket) => {
            let head = "";
            socket.on("data", (data) => {
                if (head.includes("\r\n\r\n")) return;
                head += data.toString("latin1");
                if (!head.includes("\r\n\r\n")) return;
                const body = JSON.stringify({error: {message: "The request body is larger than 1 MB.", type: "invalid_request_error", code: "request_too_large"}});
                // The status, then a reset before the whole body: what a client still sending may see
                // of a 413 (the rest of the answer lost with the connection).
                socket.write(`HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.slice(0, 10)}`,
                    () => setTimeout(() => socket.resetAndDestroy(), 20));
            });
            socket.on("error", () => {});
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const endpoint = parseEndpoint(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`);
            for (let attempt = 0; attempt < 3; attempt++) {
                const failure = await failureOf(requestCompletion({baseUrl: endpoint}, {...request, body: {prompt: "x".repeat(8 * 1024 * 1024)}}));
                expect(failure?.message).toBe(`${endpoint.href} refused the request as too large (HTTP 413).`);
            }
        } finally {
            await new Promise((resolve) => server.close(resolve));
        }
    }, 30_000);
});
