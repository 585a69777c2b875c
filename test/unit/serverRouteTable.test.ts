import type {Server} from "node:http";
import type {AddressInfo} from "node:net";
import {afterEach, describe, expect, test} from "vitest";
import {HttpError} from "../../src/server/core/httpError.js";
import {createHttpServer} from "../../src/server/core/httpServer.js";
import {RouteTable, type ErrorShape, type Route} from "../../src/server/core/routeTable.js";
import {sendJson} from "../../src/server/core/sendJson.js";
import {createServerCore} from "../../src/server/core/serverCore.js";
import {sendOpenAiError} from "../../src/server/openai/errorShape.js";

// The core's transport on a real socket, with rows made up for the test (no model: none of them generates).
let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => server == null ? resolve() : server.close(() => resolve())));

/** A dialect whose errors are Ollama's `{"error": "…"}`, to see that a route's own shape is used. */
const plainErrors: ErrorShape = (response, error) => sendJson(response, error.status, {error: error.message}, error.options.headers);

const rows: Route[] = [
    {method: "GET", path: "/open", public: true, handler: ({response}) => sendJson(response, 200, {open: true})},
    {method: "GET", path: "/things/:id", handler: ({response, params}) => sendJson(response, 200, {params})},
    {method: "DELETE", path: "/things/:id", handler: ({response}) => sendJson(response, 200, {deleted: true})},
    {method: "GET", path: "/things/special", handler: ({response}) => sendJson(response, 200, {special: true})},
    {method: "GET", path: "/things/:id/parts/:part", handler: ({response, params}) => sendJson(response, 200, {params})},
    {method: "POST", path: "/plain", errors: plainErrors, handler: () => {
        throw new HttpError(400, "plain refusal");
    }},
    {method: "GET", path: "/broken", handler: () => {
        throw new Error("a bug with a stack");
    }}
];

async function start(apiKey?: string) {
    const logged: string[] = [];
    const core = createServerCore({modelId: "tiny", log: (line) => logged.push(line)});
    server = createHttpServer(core, rows, {apiKey, errors: sendOpenAiError, errorsByPrefix: [{prefix: "/plain-api/", errors: plainErrors}]}).server;
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = async (method: string, path: string, headers: Record<string, string> = {}) => {
        const response = await fetch(`${origin}${path}`, {method, headers});
        return {status: response.status, allow: response.headers.get("allow"), body: await response.json() as Record<string, any>};
    };
    return {call, core, logged};
}

describe("the server's route table", () => {
    test("a path no row has is 404 in the default (OpenAI) shape", async () => {
        const {call} = await start();
        const answer = await call("GET", "/v1/engines");
        expect(answer.status).toBe(404);
        expect(answer.body).toEqual({error: {message: "Unknown route GET /v1/engines.", type: "not_found_error", param: null, code: "unknown_url"}});
    });

    test("a known path asked with another method is 405 with Allow listing the path's methods", async () => {
        const {call} = await start();
        const one = await call("POST", "/open");
        expect(one.status).toBe(405);
        expect(one.allow).toBe("GET");
        expect(one.body.error).toMatchObject({message: "/open takes GET, not POST.", code: "method_not_allowed"});
        const two = await call("PUT", "/things/abc");
        expect(two.status).toBe(405);
        expect(two.allow).toBe("GET, DELETE");
    });

    test("a :id route gets its parameter URL-decoded, whatever the method row; a literal row wins over it", async () => {
        const {call} = await start();
        expect(await call("GET", "/things/abc")).toMatchObject({status: 200, body: {params: {id: "abc"}}});
        expect(await call("GET", "/things/org%2Fmodel%20v1")).toMatchObject({status: 200, body: {params: {id: "org/model v1"}}});
        expect(await call("DELETE", "/things/abc")).toMatchObject({status: 200, body: {deleted: true}});
        expect(await call("GET", "/things/special")).toMatchObject({status: 200, body: {special: true}});
        expect(await call("GET", "/things/a/parts/b")).toMatchObject({status: 200, body: {params: {id: "a", part: "b"}}});
        // A parameter is one whole, non-empty segment.
        expect((await call("GET", "/things/a/b")).status).toBe(404);
        expect((await call("GET", "/things/a/parts/")).status).toBe(404);
    });

    test("the query string and a trailing slash do not change the route", async () => {
        const {call} = await start();
        expect(await call("GET", "/things/abc/?verbose=1")).toMatchObject({status: 200, body: {params: {id: "abc"}}});
        expect((await call("GET", "/open/")).status).toBe(200);
    });

    test("a route's errors, its 405 included, are answered in its dialect's shape", async () => {
        const {call} = await start();
        expect(await call("POST", "/plain")).toEqual({status: 400, allow: null, body: {error: "plain refusal"}});
        expect(await call("GET", "/plain")).toEqual({status: 405, allow: "POST", body: {error: "/plain takes POST, not GET."}});
    });

    test("an unexpected exception is a 500 without its stack, and its message goes to the log", async () => {
        const {call, logged} = await start();
        const answer = await call("GET", "/broken");
        expect(answer.status).toBe(500);
        expect(answer.body.error).toMatchObject({type: "server_error", code: "internal_error"});
        expect(JSON.stringify(answer.body)).not.toContain("a bug");
        expect(logged).toEqual(["request failed: a bug with a stack"]);
    });

    test("an unknown path under a dialect's prefix is answered in that dialect's shape", async () => {
        const {call} = await start();
        expect(await call("POST", "/plain-api/embed")).toEqual({status: 404, allow: null, body: {error: "Unknown route POST /plain-api/embed."}});
        expect((await call("GET", "/plain-apiary")).body.error).toMatchObject({code: "unknown_url"});
    });

    test("the key may come as Anthropic's x-api-key header too", async () => {
        const {call} = await start("secret");
        expect((await call("GET", "/things/abc", {"x-api-key": "secret"})).status).toBe(200);
        expect((await call("GET", "/things/abc", {"x-api-key": "wrong"})).status).toBe(401);
    });

    test("with a key, every row but the public ones asks for it; unknown routes stay 404", async () => {
        const {call} = await start("secret");
        expect((await call("GET", "/open")).status).toBe(200);
        expect((await call("GET", "/things/abc")).status).toBe(401);
        expect((await call("GET", "/things/abc", {authorization: "Bearer secret"})).status).toBe(200);
        expect((await call("GET", "/nowhere")).status).toBe(404);
    });

    test("answered requests are counted by pattern, so ids do not multiply the metric's labels", async () => {
        const {call, core} = await start();
        await call("GET", "/things/a");
        await call("GET", "/things/b");
        await call("PUT", "/things/c");
        await call("GET", "/nowhere");
        expect(Object.fromEntries(core.requests.entries())).toEqual({
            'route="/things/:id",status="200"': 2,
            'route="/things/:id",status="405"': 1,
            'route="other",status="404"': 1
        });
    });

    test("two rows for one method and path are refused when the table is built", () => {
        const handler = () => {};
        expect(() => new RouteTable([{method: "GET", path: "/a/:x", handler}, {method: "GET", path: "/a/:x", handler}]))
            .toThrow("Two routes for GET /a/:x.");
    });
});
