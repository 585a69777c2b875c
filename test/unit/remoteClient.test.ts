import {describe, expect, it} from "vitest";
import {chooseModelId} from "../../src/cli/openGenerator.js";
import {EndpointError, UsageError} from "../../src/errors.js";
import {parseEndpoint} from "../../src/remote/endpointUrl.js";
import {listModelIds, requestCompletion} from "../../src/remote/openAiClient.js";
import {ServerSentEventParser} from "../../src/remote/serverSentEvents.js";
import {stopReasonOf} from "../../src/remote/stopReasonOf.js";
import {chunk, fakeServer, stopLastServer, streamHeaders} from "./helpers/fakeOpenAiServer.js";

/**
 * Protocol corner cases a real server does not produce on demand (a 500, a malformed event, an
 * error mid-stream, events split anywhere). The normal path is tested against the real
 * `mixtral serve` in test/e2e/remoteClient.test.ts.
 */
describe("server-sent events", () => {
    it("reassembles events split inside lines, characters and \\r\\n pairs", () => {
        const stream = "data: {\"a\":\"é\"}\r\n\r\n: keep-alive\n\nevent: x\ndata: one\ndata: two\n\ndata:[DONE]\n\n";
        const bytes = Buffer.from(stream);
        for (let cut = 1; cut < bytes.length; cut++) {
            const parser = new ServerSentEventParser();
            const events = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut)), ...parser.end()];
            expect(events).toEqual(["{\"a\":\"é\"}", "one\ntwo", "[DONE]"]);
        }
    });

    it("keeps the last event of a stream that ends without its blank line", () => {
        const parser = new ServerSentEventParser();
        expect([...parser.push("data: last"), ...parser.end()]).toEqual(["last"]);
    });
});

describe("the OpenAI client", () => {
    it("streams text, reads the usage chunk and the finish reason", async () => {
        let sent: Record<string, unknown> = {};
        const endpoint = await fakeServer((request, response, body) => {
            sent = JSON.parse(body) as Record<string, unknown>;
            expect(request.url).toBe("/v1/completions");
            expect(request.headers.authorization).toBe("Bearer sk-test");
            response.writeHead(200, streamHeaders);
            response.end(chunk("Hel") + chunk("lo") + chunk("", "stop") +
                `data: ${JSON.stringify({choices: [], usage: {prompt_tokens: 3, completion_tokens: 2}})}\n\ndata: [DONE]\n\n`);
        });
        const pieces: string[] = [];
        const outcome = await requestCompletion({baseUrl: endpoint, apiKey: "sk-test"}, {
            route: "completions", body: {model: "m", prompt: "x"}, stream: true, onText: (text) => pieces.push(text)
        });
        expect(sent).toMatchObject({model: "m", prompt: "x", stream: true, stream_options: {include_usage: true}});
        expect(pieces).toEqual(["Hel", "lo"]);
        expect(outcome).toMatchObject({text: "Hello", finishReason: "stop", usage: {promptTokens: 3, completionTokens: 2}, textChunks: 2, aborted: false});
        expect(stopReasonOf(outcome, false)).toBe("eos");
    });

    it("reads a JSON answer to a stream request as a non-streaming answer", async () => {
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(200, {"content-type": "application/json"});
            response.end(JSON.stringify({choices: [{index: 0, message: {role: "assistant", content: "Hi there"}, finish_reason: "length"}], usage: {prompt_tokens: 5, completion_tokens: 2}}));
        });
        const outcome = await requestCompletion({baseUrl: endpoint}, {route: "chat/completions", body: {messages: []}, stream: true});
        expect(outcome).toMatchObject({text: "Hi there", finishReason: "length", usage: {promptTokens: 5, completionTokens: 2}});
        expect(stopReasonOf(outcome, false)).toBe("maxTokens");
    });

    it("tells a stop string from the end of sequence when the server sends vLLM's stop_reason", () => {
        const base = {text: "", finishReason: "stop", textChunks: 0, sentAt: 0, aborted: false};
        expect(stopReasonOf({...base, stopDetail: "###"}, true)).toBe("stop");
        expect(stopReasonOf({...base, stopDetail: null}, true)).toBe("eos");
        expect(stopReasonOf({...base, stopDetail: undefined}, true)).toBe("stop");
        expect(stopReasonOf({...base, stopDetail: undefined, aborted: true}, true)).toBe("abort");
    });

    it("turns a 500 in OpenAI's error shape into one sentence with the server's message", async () => {
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(500, {"content-type": "application/json"});
            response.end(JSON.stringify({error: {message: "CUDA out of memory.\nat frame 1", type: "server_error", param: null, code: null}}));
        });
        const failure = requestCompletion({baseUrl: endpoint}, {route: "completions", body: {}, stream: true});
        await expect(failure).rejects.toBeInstanceOf(EndpointError);
        await expect(failure).rejects.toThrow(/^http:\/\/127\.0\.0\.1:\d+\/v1 failed \(HTTP 500\): CUDA out of memory\. at frame 1\.$/);
    });

    it("says a 401 is about the API key and a 503 when to retry", async () => {
        let status = 401;
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(status, {"content-type": "application/json", "retry-after": "3"});
            response.end(JSON.stringify({error: {message: "Invalid API key.", type: "invalid_request_error", param: null, code: "invalid_api_key"}}));
        });
        const unauthorized = await listModelIds({baseUrl: endpoint}).catch((error: unknown) => error as EndpointError);
        expect(unauthorized.message).toMatch(/refused the API key \(HTTP 401\): Invalid API key\.$/);
        expect(unauthorized.hint).toMatch(/MIXTRAL_API_KEY/);
        status = 503;
        const busy = await listModelIds({baseUrl: endpoint}).catch((error: unknown) => error as EndpointError);
        expect(busy.message).toMatch(/is busy \(HTTP 503\)/);
        expect(busy.hint).toBe("Try again in 3 s.");
    });

    it("fails on a malformed event and on an error sent mid-stream, with one sentence each", async () => {
        let body = chunk("a") + "data: {not json\n\n";
        const endpoint = await fakeServer((_request, response) => {
            response.writeHead(200, streamHeaders);
            response.end(body);
        });
        await expect(requestCompletion({baseUrl: endpoint}, {route: "completions", body: {}, stream: true}))
            .rejects.toThrow(/did not answer like an OpenAI-compatible API \(an event that is not JSON: \{not json\)\.$/);
        body = chunk("a") + `data: ${JSON.stringify({error: {message: "context shift disabled", type: "server_error"}})}\n\n`;
        await expect(requestCompletion({baseUrl: endpoint}, {route: "completions", body: {}, stream: true}))
            .rejects.toThrow(/stopped with an error: context shift disabled\.$/);
    });

    it("an aborted request closes the connection and resolves with the text so far", async () => {
        let serverSawClose: Promise<void> = Promise.resolve();
        const endpoint = await fakeServer((request, response) => {
            response.writeHead(200, streamHeaders);
            response.write(chunk("partial"));
            serverSawClose = new Promise((resolve) => response.on("close", resolve));
        });
        const controller = new AbortController();
        const outcome = await requestCompletion({baseUrl: endpoint}, {
            route: "completions", body: {}, stream: true, signal: controller.signal, onText: () => controller.abort()
        });
        expect(outcome).toMatchObject({text: "partial", aborted: true, finishReason: null});
        await serverSawClose;
    });

    it("a refused connection is one sentence naming the URL", async () => {
        const endpoint = await fakeServer(() => {});
        await stopLastServer();
        const failure = await listModelIds({baseUrl: endpoint}).catch((error: unknown) => error as EndpointError);
        expect(failure).toBeInstanceOf(EndpointError);
        expect(failure.message).toBe(`Cannot reach ${endpoint.href} (connection refused).`);
    });

    it("takes base URLs as OpenAI clients do", () => {
        expect(parseEndpoint("http://127.0.0.1:8080/v1/").href).toBe("http://127.0.0.1:8080/v1");
        expect(parseEndpoint("http://localhost:11434").href).toBe("http://localhost:11434/v1");
        expect(() => parseEndpoint("localhost:8080")).toThrow(UsageError);
        expect(() => parseEndpoint("not a url")).toThrow(UsageError);
    });

    it("names the model as the server lists it: --model, else its file name, else the first id", () => {
        const listed = ["tiny-q8_0", "other"];
        expect(chooseModelId(listed, undefined)).toBe("tiny-q8_0");
        expect(chooseModelId(listed, "other")).toBe("other");
        expect(chooseModelId(listed, "./models/other.gguf")).toBe("other");
        expect(chooseModelId(listed, "mixtral:8x7b")).toBe("mixtral:8x7b");
        expect(chooseModelId([], undefined)).toBeUndefined();
    });
});
