import Anthropic from "@anthropic-ai/sdk";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {startServe, stopAllServers, type ServeProcess} from "./helpers/serveProcess.js";
import {expectValidCall, toolSpecs} from "./helpers/toolFixtures.js";

// Anthropic's Messages API through the real `@anthropic-ai/sdk`, on the tiny random-weight model:
// the assertions are about structure, equality and determinism, never wording.
let server: ServeProcess;
let client: Anthropic;
const greedy = {temperature: 0, max_tokens: 8} as const;
const messages = [{role: "user" as const, content: "Hello there"}];

beforeAll(async () => {
    server = await startServe(["--parallel", "2", "--context-size", "1024"]);
    client = new Anthropic({baseURL: server.origin, apiKey: "unused", maxRetries: 0});
});
afterAll(stopAllServers);

const tools: Anthropic.Tool[] = toolSpecs.map(({name, description, parameters}) => ({name, description, input_schema: parameters}));
const question = [{role: "user" as const, content: "What is the weather in Paris?"}];

function toolUses(message: Anthropic.Message): Anthropic.ToolUseBlock[] {
    return message.content.filter((block): block is Anthropic.ToolUseBlock => block.type === "tool_use");
}

function textOf(message: Anthropic.Message): string {
    return message.content.map((block) => (block.type === "text" ? block.text : "")).join("");
}

describe("mixtral serve through the Anthropic SDK", () => {
    test("create: one text block, stop_reason max_tokens, usage, and input_tokens as count_tokens counts them", async () => {
        const message = await client.messages.create({model: "claude-sonnet-4-5", messages, system: "Be brief.", ...greedy});
        expect(message).toMatchObject({type: "message", role: "assistant", model: "claude-sonnet-4-5", stop_reason: "max_tokens", stop_sequence: null});
        expect(message.id).toMatch(/^msg_/);
        expect(message.content).toHaveLength(1);
        expect(textOf(message).length).toBeGreaterThan(0);
        expect(message.usage.output_tokens).toBe(8);
        const counted = await client.messages.countTokens({model: "claude-sonnet-4-5", messages, system: "Be brief."});
        expect(message.usage.input_tokens).toBe(counted.input_tokens);
        const withoutSystem = await client.messages.countTokens({model: "claude-sonnet-4-5", messages});
        expect(withoutSystem.input_tokens).toBeLessThan(counted.input_tokens);
    });

    test("system as text blocks and content as text blocks answer as their strings do", async () => {
        const plain = await client.messages.create({model: "x", messages, system: "Be brief. Be kind.", ...greedy});
        const blocks = await client.messages.create({
            model: "x", ...greedy,
            system: [{type: "text", text: "Be brief. "}, {type: "text", text: "Be kind.", cache_control: {type: "ephemeral"}}],
            messages: [{role: "user", content: [{type: "text", text: "Hello "}, {type: "text", text: "there"}]}]
        });
        expect(textOf(blocks)).toBe(textOf(plain));
        const other = await client.messages.create({model: "x", messages, system: "Answer in French.", ...greedy});
        expect(textOf(other)).not.toBe(textOf(plain));
    });

    test("stream: Anthropic's events in order, the same text as create, stop_reason and usage in message_delta", async () => {
        const whole = await client.messages.create({model: "x", messages, ...greedy});
        const stream = client.messages.stream({model: "x", messages, ...greedy});
        const types: string[] = [];
        let text = "";
        for await (const event of stream) {
            types.push(event.type);
            if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
        }
        const final = await stream.finalMessage();
        expect(text).toBe(textOf(whole));
        expect(textOf(final)).toBe(textOf(whole));
        expect(final.stop_reason).toBe("max_tokens");
        expect(final.usage).toMatchObject({input_tokens: whole.usage.input_tokens, output_tokens: 8});
        expect(types[0]).toBe("message_start");
        expect(types[1]).toBe("content_block_start");
        expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
        expect(types.slice(2, -3).every((type) => type === "content_block_delta")).toBe(true);
    });

    test("stop_sequences end the answer before the first one met, named in stop_sequence; end_turn otherwise", async () => {
        const full = await client.messages.create({model: "x", messages, temperature: 0, max_tokens: 20});
        const fullText = textOf(full);
        const stop = fullText.slice(6, 9);
        expect(stop.trim()).not.toBe("");
        const stopped = await client.messages.create({model: "x", messages, temperature: 0, max_tokens: 20, stop_sequences: ["never appears \u0001", stop]});
        expect(stopped.stop_reason).toBe("stop_sequence");
        expect(stopped.stop_sequence).toBe(stop);
        expect(textOf(stopped)).toBe(fullText.slice(0, fullText.indexOf(stop)));

        let streamedStop: string | null | undefined;
        for await (const event of client.messages.stream({model: "x", messages, temperature: 0, max_tokens: 20, stop_sequences: [stop]}))
            if (event.type === "message_delta") streamedStop = event.delta.stop_sequence;
        expect(streamedStop).toBe(stop);
    });

    test("tool_choice any and tool: tool_use blocks whose input validates against the input_schema, stop_reason tool_use", async () => {
        // One call each: parallel calls on random weights can go on until max_tokens cuts them (the OpenAI tests cover that bound).
        const choices: Anthropic.ToolChoice[] = [{type: "any", disable_parallel_tool_use: true}, {type: "tool", name: "get_time", disable_parallel_tool_use: true}];
        const requests = choices.flatMap((tool_choice) => [1, 2, 3].map((seed) => ({tool_choice, seed})));
        const answers = await Promise.all(requests.map(({tool_choice, seed}) => client.messages.create({
            model: "x", messages: question, tools, tool_choice, temperature: 1, max_tokens: 300,
            // The SDK has no seed field: extra body fields reach the server as sent.
            ...{seed} as object})));
        answers.forEach((message, index) => {
            expect(message.stop_reason, JSON.stringify(message.content)).toBe("tool_use");
            const uses = toolUses(message);
            expect(message.content).toEqual(uses);
            expect(uses).toHaveLength(1);
            expect(uses[0]!.id).toMatch(/^toolu_/);
            expectValidCall(uses[0]!.name, uses[0]!.input, requests[index]!.tool_choice.type === "tool" ? ["get_time"] : undefined);
        });
    });

    test("streamed calls: content_block_start (tool_use), input_json_delta, content_block_stop, as the SDK gathers them", async () => {
        const request = {model: "x", messages: question, tools, tool_choice: {type: "any", disable_parallel_tool_use: true}, temperature: 1, max_tokens: 300} as const;
        const stream = client.messages.stream(request);
        const events: Anthropic.MessageStreamEvent[] = [];
        for await (const event of stream) events.push(event);
        const final = await stream.finalMessage();
        expect(final.stop_reason).toBe("tool_use");
        const uses = toolUses(final);
        expect(uses.length).toBeGreaterThan(0);
        for (const use of uses) expectValidCall(use.name, use.input);
        const starts = events.filter((event) => event.type === "content_block_start");
        expect(starts.map((event) => event.index)).toEqual(uses.map((_, index) => index));
        expect(starts.every((event) => event.content_block.type === "tool_use")).toBe(true);
        expect(events.some((event) => event.type === "content_block_delta" && event.delta.type === "input_json_delta")).toBe(true);
        expect(events.at(-2)).toMatchObject({type: "message_delta", delta: {stop_reason: "tool_use"}});
        // message_start's input_tokens counts the tools' description too, as count_tokens does.
        const counted = await client.messages.countTokens({model: "x", messages: question, tools, tool_choice: request.tool_choice});
        expect(final.usage.input_tokens).toBe(counted.input_tokens);
    });

    test("a history with tool_use and tool_result blocks is in the prompt; tool_choice none answers as without tools", async () => {
        const history = (result: string): Anthropic.MessageParam[] => [
            ...question,
            {role: "assistant", content: [{type: "tool_use", id: "toolu_1", name: "get_weather", input: {city: "Paris", unit: "celsius"}}]},
            {role: "user", content: [{type: "tool_result", tool_use_id: "toolu_1", content: result}]}
        ];
        const short = await client.messages.create({model: "x", messages: history("18"), tools, ...greedy});
        const long = await client.messages.create({model: "x", messages: history("18 degrees, light rain in the evening, wind from the west"), tools, ...greedy});
        expect(["end_turn", "max_tokens", "tool_use"]).toContain(short.stop_reason);
        expect(long.usage.input_tokens).toBeGreaterThan(short.usage.input_tokens + 5);

        const none = await client.messages.create({model: "x", messages: question, tools, tool_choice: {type: "none"}, ...greedy});
        const plain = await client.messages.create({model: "x", messages: question, ...greedy});
        expect(toolUses(none)).toEqual([]);
        expect(none.usage.input_tokens).toBe(plain.usage.input_tokens);
        expect(textOf(none)).toBe(textOf(plain));
        const offered = await client.messages.countTokens({model: "x", messages: question, tools});
        expect(offered.input_tokens).toBeGreaterThan(plain.usage.input_tokens + 50);
    });

    test("refusals in Anthropic's error shape, as the SDK's typed errors; unknown paths under /v1/messages too", async () => {
        const serverTool = client.messages.create({model: "x", messages, max_tokens: 4, tools: [{type: "web_search_20250305", name: "web_search"}]});
        await expect(serverTool).rejects.toBeInstanceOf(Anthropic.BadRequestError);
        await expect(serverTool).rejects.toThrow(/only custom tools/);
        const image = client.messages.create({model: "x", max_tokens: 4,
            messages: [{role: "user", content: [{type: "image", source: {type: "base64", media_type: "image/png", data: "aGVsbG8="}}]}]});
        await expect(image).rejects.toThrow(/image blocks are not supported/);
        // A prefill is continued (test/e2e/serveHostileInput.test.ts checks what it continues).
        const prefill = client.messages.create({model: "x", max_tokens: 4, messages: [{role: "user", content: "hi"}, {role: "assistant", content: "Well,"}]});
        await expect(prefill).resolves.toMatchObject({role: "assistant", content: [{type: "text"}]});
        await expect(client.messages.create({model: "x", messages, max_tokens: 4, temperature: 1.5})).rejects.toThrow(/temperature must be between 0 and 1/);

        const unknown = await fetch(`${server.origin}/v1/messages/batches`, {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"});
        expect(unknown.status).toBe(404);
        const body = await unknown.json() as {type: string, error: {type: string, message: string}};
        expect(body).toMatchObject({type: "error", error: {type: "not_found_error"}});
        expect(body.error.message).toMatch(/^Unknown route POST \/v1\/messages\/batches\.$/);
    });
});
