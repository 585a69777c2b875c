import {readFileSync} from "node:fs";
import OpenAI from "openai";
import {afterAll, expect, test} from "vitest";
import {startServe, stopAllServers} from "./helpers/serveProcess.js";

afterAll(stopAllServers);

/** The server's resident memory, as the kernel counts it. */
function residentKiB(pid: number): number {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((entry) => entry.startsWith("VmRSS:"));
    return Number(/(\d+)/.exec(line ?? "")?.[1]);
}

test("500 requests at concurrency 8: no errors, and memory does not grow between request 100 and 500", {timeout: 300_000}, async () => {
    const server = await startServe(["--parallel", "4"]);
    const client = new OpenAI({baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0});
    const total = 500;
    const concurrency = 8;
    let next = 0;
    let done = 0;
    const errors: unknown[] = [];
    let rssAt100 = 0;
    // A mix like real traffic: chat and raw completions, streamed or not, varied prompts and sampling.
    async function one(index: number) {
        const content = `request ${index}: ${"lorem ipsum ".repeat(index % 7)}`;
        const sampling = {max_tokens: 4 + (index % 5), temperature: index % 2 === 0 ? 0 : 0.9, seed: index};
        if (index % 4 === 0) {
            const stream = await client.chat.completions.create({messages: [{role: "user", content}], ...sampling, stream: true, stream_options: {include_usage: true}});
            let usage: OpenAI.CompletionUsage | undefined;
            for await (const chunk of stream) usage = chunk.usage ?? usage;
            if (usage == null) throw new Error("no usage chunk");
        } else if (index % 4 === 1) {
            await client.completions.create({prompt: content, ...sampling});
        } else {
            const answer = await client.chat.completions.create({messages: [{role: "system", content: "Be brief."}, {role: "user", content}], ...sampling});
            if (answer.choices[0]?.finish_reason == null) throw new Error("no finish_reason");
        }
    }
    async function worker() {
        while (next < total) {
            const index = next++;
            try {
                await one(index);
            } catch (error) {
                errors.push(error);
            }
            if (++done === 100) rssAt100 = residentKiB(server.child.pid!);
        }
    }
    await Promise.all(Array.from({length: concurrency}, worker));
    const rssAt500 = residentKiB(server.child.pid!);
    expect(errors).toEqual([]);
    expect(done).toBe(total);
    expect(rssAt100).toBeGreaterThan(0);
    expect(rssAt500 / rssAt100).toBeLessThan(1.2);
    const metrics = await (await fetch(`${server.origin}/metrics`)).text();
    expect(metrics).toMatch(/^mixtral_requests_total 500$/m);
    expect(metrics).toMatch(/^mixtral_busy_sequences 0$/m);
    console.log(`soak: RSS ${(rssAt100 / 1024).toFixed(1)} MiB at request 100, ${(rssAt500 / 1024).toFixed(1)} MiB at 500 (${((rssAt500 / rssAt100 - 1) * 100).toFixed(1)}%)`);
});
