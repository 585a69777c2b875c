import Anthropic from "@anthropic-ai/sdk";
import {afterAll, describe, expect, test} from "vitest";
import {startServe, stopAllServers} from "./helpers/serveProcess.js";

afterAll(stopAllServers);

// What a browser does: a preflight OPTIONS for a JSON POST, then the request, both with `Origin`.
function preflight(url: string, origin: string, headers = "authorization, content-type") {
    return fetch(url, {method: "OPTIONS", headers: {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers}});
}

describe("serve and web pages (CORS)", () => {
    test("pages of this machine and --cors origins may call it, with the key; any other page gets 403 in the path's dialect", async () => {
        const server = await startServe(["--parallel", "1", "--api-key", "sekret", "--cors", "https://app.example", "--cors", "chrome-extension://*"]);
        for (const origin of ["http://localhost:3000", "http://127.0.0.1:5173", "https://app.example", "chrome-extension://abcdef"]) {
            const answer = await preflight(`${server.baseUrl}/chat/completions`, origin);
            expect(answer.status, origin).toBe(204);
            expect(answer.headers.get("access-control-allow-origin"), origin).toBe(origin);
            expect(answer.headers.get("access-control-allow-methods")).toContain("POST");
            expect(answer.headers.get("access-control-allow-headers")).toBe("authorization, content-type");
        }
        const evil = await preflight(`${server.baseUrl}/chat/completions`, "https://evil.example");
        expect(evil.status).toBe(403);
        expect(evil.headers.get("access-control-allow-origin")).toBeNull();
        expect(((await evil.json()) as {error: {message: string}}).error.message).toBe(
            "Pages from https://evil.example may not call this API: start the server with --cors https://evil.example to allow them.");

        // The request itself: allowed with the key, and marked for the browser; refused in Ollama's shape under /api/.
        const models = await fetch(`${server.baseUrl}/models`, {headers: {Origin: "https://app.example", Authorization: "Bearer sekret"}});
        expect(models.status).toBe(200);
        expect(models.headers.get("access-control-allow-origin")).toBe("https://app.example");
        expect(models.headers.get("vary")).toBe("Origin");
        const withoutKey = await fetch(`${server.baseUrl}/models`, {headers: {Origin: "https://app.example"}});
        expect(withoutKey.status).toBe(401);
        // A "simple" request needs no preflight: it is refused before anything runs.
        const simple = await fetch(`${server.origin}/api/generate`, {method: "POST", headers: {"Origin": "https://evil.example", "Content-Type": "text/plain"},
            body: JSON.stringify({model: "x", prompt: "hi"})});
        expect(simple.status).toBe(403);
        expect(Object.keys((await simple.json()) as object)).toEqual(["error"]);
        // Without Origin (curl, SDKs outside a browser) nothing changes.
        const plain = await fetch(`${server.baseUrl}/models`, {headers: {Authorization: "Bearer sekret"}});
        expect(plain.status).toBe(200);
        expect(plain.headers.get("access-control-allow-origin")).toBeNull();

        // Anthropic's SDK sends the key as x-api-key: accepted as the Bearer one is.
        const anthropic = new Anthropic({baseURL: server.origin, apiKey: "sekret", maxRetries: 0});
        expect((await anthropic.messages.countTokens({model: "x", messages: [{role: "user", content: "hi"}]})).input_tokens).toBeGreaterThan(0);
        const wrong = new Anthropic({baseURL: server.origin, apiKey: "wrong", maxRetries: 0});
        await expect(wrong.messages.countTokens({model: "x", messages: [{role: "user", content: "hi"}]})).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    });

    test("--cors '*' answers every page with Access-Control-Allow-Origin: * and warns when there is no API key", async () => {
        const server = await startServe(["--parallel", "1", "--cors", "*"]);
        expect(server.stderr()).toContain("warning: --cors '*' without an API key");
        const answer = await preflight(`${server.origin}/api/chat`, "https://anywhere.example");
        expect(answer.status).toBe(204);
        expect(answer.headers.get("access-control-allow-origin")).toBe("*");
        const tags = await fetch(`${server.origin}/api/tags`, {headers: {Origin: "https://anywhere.example"}});
        expect(tags.status).toBe(200);
        expect(tags.headers.get("access-control-allow-origin")).toBe("*");
    });
});
