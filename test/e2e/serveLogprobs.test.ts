import {describe, expect, test} from "vitest";
import {runCli, tinyModel} from "./helpers/runCli.js";
import {useServedClient} from "./helpers/serveProcess.js";

// logprobs through the real `openai` client: the model's distribution as the per-request generation
// state captures it (one implementation for both drivers), in OpenAI's shapes, streamed too, and the
// same numbers through `mixtral complete --json --logprobs`.
const served = useServedClient(["--parallel", "2", "--context-size", "2048"]);

const messages = [{role: "user" as const, content: "Tell me a story."}];

describe("logprobs on mixtral serve", () => {
    test("chat: one entry a generated token, top_logprobs most likely first, greedy picks the first", async () => {
        const answer = await served.client.chat.completions.create({messages, temperature: 0, max_tokens: 10, logprobs: true, top_logprobs: 3});
        const content = answer.choices[0]!.logprobs!.content!;
        expect(content).toHaveLength(answer.usage!.completion_tokens);
        // Mistral's answers open with the space of "[/INST] ", which the message's content drops.
        expect(content.map((entry) => entry.token).join("").trimStart()).toBe(answer.choices[0]!.message.content);
        for (const entry of content) {
            expect(entry.top_logprobs).toHaveLength(3);
            expect(entry.token).toBe(entry.top_logprobs[0]!.token);
            expect(entry.logprob).toBeCloseTo(entry.top_logprobs[0]!.logprob, 5);
            expect(entry.top_logprobs[0]!.logprob).toBeGreaterThanOrEqual(entry.top_logprobs[2]!.logprob);
            expect(entry.bytes).toEqual([...Buffer.from(entry.token)]);
        }
        const without = await served.client.chat.completions.create({messages, temperature: 0, max_tokens: 3});
        expect(without.choices[0]!.logprobs).toBeNull();
    });

    test("chat streamed: the chunks' logprobs are the unstreamed answer's", async () => {
        const whole = await served.client.chat.completions.create({messages, temperature: 0, max_tokens: 10, logprobs: true, top_logprobs: 2});
        const streamed = [];
        for await (const chunk of await served.client.chat.completions.create({messages, temperature: 0, max_tokens: 10, logprobs: true, top_logprobs: 2, stream: true}))
            streamed.push(...chunk.choices[0]?.logprobs?.content ?? []);
        const wholeContent = whole.choices[0]!.logprobs!.content!;
        expect(streamed.map((entry) => entry.token)).toEqual(wholeContent.map((entry) => entry.token));
        for (const [index, entry] of streamed.entries()) expect(entry.logprob).toBeCloseTo(wholeContent[index]!.logprob, 4);
    });

    test("completions: the legacy shape, and the same numbers as `complete --json --logprobs` here and through the server", async () => {
        const prompt = "Once upon a time";
        const answer = await served.client.completions.create({model: "any", prompt, temperature: 0, max_tokens: 8, logprobs: 2});
        const logprobs = answer.choices[0]!.logprobs!;
        expect(logprobs.tokens!.join("")).toBe(answer.choices[0]!.text);
        expect(logprobs.token_logprobs).toHaveLength(logprobs.tokens!.length);
        expect(logprobs.text_offset![0]).toBe(prompt.length);
        for (const [index, top] of logprobs.top_logprobs!.entries()) expect(top[logprobs.tokens![index]!]).toBeCloseTo(logprobs.token_logprobs![index]!, 5);

        const args = ["complete", prompt, "--temperature", "0", "-n", "8", "--json", "--logprobs", "2"];
        const local = await runCli([...args, "--model", tinyModel(), "--threads", "1", "--no-server"]);
        expect(local.code, local.stderr).toBe(0);
        const remote = await runCli([...args, "--endpoint", served.server.baseUrl]);
        expect(remote.code, remote.stderr).toBe(0);
        for (const output of [local.stdout, remote.stdout]) {
            const entries = (JSON.parse(output) as {logprobs: {token: string, logprob: number, top: {token: string}[]}[]}).logprobs;
            expect(entries.map((entry) => entry.token)).toEqual(logprobs.tokens);
            for (const [index, entry] of entries.entries()) {
                expect(entry.logprob).toBeCloseTo(logprobs.token_logprobs![index]!, 3);
                expect(entry.top).toHaveLength(2);
            }
        }
        const refused = await runCli([...args.filter((arg) => arg !== "--json"), "--model", tinyModel(), "--no-server"]);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain("--json");
    });
});
