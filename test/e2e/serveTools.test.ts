import type OpenAI from "openai";
import type {ChatCompletionTool} from "openai/resources/chat/completions";
import {describe, expect, test} from "vitest";
import {useServedClient} from "./helpers/serveProcess.js";
import {expectValidCall, toolSpecs} from "./helpers/toolFixtures.js";

// Tools through the real `openai` client on the tiny random-weight model (Mixtral Instruct's
// template, which has no tool tokens): the tools are described in the prompt and the answer is
// held to `{"tool_call": …}` / `{"response": …}` by a grammar, so even gibberish weights give calls
// whose arguments validate against the tool's schema.

const tools: ChatCompletionTool[] = toolSpecs.map((spec) => ({type: "function", function: spec}));
const question = [{role: "user" as const, content: "What is the weather in Paris?"}];

/** Every call names an offered tool and its arguments are JSON that validates against that tool's schema. */
function expectValidCalls(calls: {function: {name: string, arguments: string}}[] | undefined, names?: string[]) {
    expect(calls?.length).toBeGreaterThan(0);
    for (const call of calls!) expectValidCall(call.function.name, JSON.parse(call.function.arguments), names);
}

const served = useServedClient(["--parallel", "4", "--context-size", "2048"]);

describe("tools on mixtral serve", () => {
    test("tool_choice required: 20 seeds at temperature 1 all call a tool with arguments valid against its schema", async () => {
        const answers = await Promise.all(Array.from({length: 20}, (_, seed) => served.client.chat.completions.create({
            model: "gpt-4o-mini", messages: question, tools, tool_choice: "required", parallel_tool_calls: false,
            temperature: 1, seed, max_tokens: 300
        })));
        for (const answer of answers) {
            const choice = answer.choices[0]!;
            expect(choice.finish_reason, JSON.stringify(choice.message)).toBe("tool_calls");
            expect(choice.message.content).toBeNull();
            expect(choice.message.tool_calls).toHaveLength(1);
            expectValidCalls(choice.message.tool_calls as {function: {name: string, arguments: string}}[]);
            expect(choice.message.tool_calls![0]!.id).toMatch(/^call_/);
        }
    });

    test("a named function: 20 seeds at temperature 1 all call that function", async () => {
        const answers = await Promise.all(Array.from({length: 20}, (_, seed) => served.client.chat.completions.create({
            messages: question, tools, tool_choice: {type: "function", function: {name: "get_time"}}, parallel_tool_calls: false,
            temperature: 1, seed, max_tokens: 300
        })));
        for (const answer of answers) {
            const choice = answer.choices[0]!;
            expect(choice.finish_reason, JSON.stringify(choice.message)).toBe("tool_calls");
            expect(choice.message.tool_calls).toHaveLength(1);
            expectValidCalls(choice.message.tool_calls as {function: {name: string, arguments: string}}[], ["get_time"]);
        }
    });

    test("parallel calls (the default): valid, and bounded so that a rambling model still ends its answer", async () => {
        const answers = await Promise.all(Array.from({length: 6}, (_, seed) => served.client.chat.completions.create({
            messages: question, tools, tool_choice: {type: "function", function: {name: "get_time"}},
            temperature: 1, seed: 100 + seed, max_tokens: 1200
        })));
        for (const answer of answers) {
            const choice = answer.choices[0]!;
            expect(choice.finish_reason, JSON.stringify(choice.message)).toBe("tool_calls");
            expect(choice.message.tool_calls!.length).toBeLessThanOrEqual(8);
            expectValidCalls(choice.message.tool_calls as {function: {name: string, arguments: string}}[], ["get_time"]);
        }
    });

    test("auto: a text answer or valid calls; none: text, tools not offered", async () => {
        for (const seed of [1, 2, 3, 4]) {
            const answer = await served.client.chat.completions.create({messages: question, tools, temperature: 1, seed, max_tokens: 200});
            const choice = answer.choices[0]!;
            if (choice.finish_reason === "tool_calls") expectValidCalls(choice.message.tool_calls as {function: {name: string, arguments: string}}[]);
            else if (choice.finish_reason === "length" && choice.message.tool_calls != null) {
                // max_tokens cut parallel calls: the calls completed before the cut are given, each valid.
                expect(choice.message.content).toBeNull();
                expectValidCalls(choice.message.tool_calls as {function: {name: string, arguments: string}}[]);
            } else {
                expect(typeof choice.message.content, JSON.stringify(choice)).toBe("string");
                expect(choice.message.tool_calls).toBeUndefined();
            }
        }
        const none = await served.client.chat.completions.create({messages: question, tools, tool_choice: "none", temperature: 0, max_tokens: 8});
        const plain = await served.client.chat.completions.create({messages: question, temperature: 0, max_tokens: 8});
        expect(none.choices[0]!.message.tool_calls).toBeUndefined();
        // Not offered: the prompt is the plain conversation's.
        expect(none.usage!.prompt_tokens).toBe(plain.usage!.prompt_tokens);
        expect(none.choices[0]!.message.content).toBe(plain.choices[0]!.message.content);
        // Offered, they are described in the prompt.
        const offered = await served.client.chat.completions.create({messages: question, tools, temperature: 0, max_tokens: 1});
        expect(offered.usage!.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens + 50);
    });

    test("an agent's history: an assistant turn with tool_calls and content null, then the tool's result", async () => {
        const history = (result: string): OpenAI.ChatCompletionMessageParam[] => [
            ...question,
            {role: "assistant", content: null, tool_calls: [{id: "call_1", type: "function", function: {name: "get_weather", arguments: "{\"city\":\"Paris\",\"unit\":\"celsius\"}"}}]},
            {role: "tool", tool_call_id: "call_1", content: result}
        ];
        const short = await served.client.chat.completions.create({messages: history("18"), tools, temperature: 0, max_tokens: 40});
        const long = await served.client.chat.completions.create({messages: history("18 degrees, light rain in the evening, wind from the west"), tools, temperature: 0, max_tokens: 40});
        expect(["stop", "length", "tool_calls"]).toContain(short.choices[0]!.finish_reason);
        // The tool's result is in the prompt.
        expect(long.usage!.prompt_tokens).toBeGreaterThan(short.usage!.prompt_tokens + 5);
        // Without tools (an agent's last turn, or a client that drops them) the history is still taken.
        const withoutTools = await served.client.chat.completions.create({messages: history("18"), temperature: 0, max_tokens: 5});
        expect(withoutTools.choices[0]!.message.tool_calls).toBeUndefined();
    });

    test("streamed: tool_calls deltas that the client's accumulator turns into valid calls, finish_reason tool_calls", async () => {
        const stream = served.client.chat.completions.stream({messages: question, tools, tool_choice: "required", temperature: 1, seed: 5, max_tokens: 300});
        const final = await stream.finalChatCompletion();
        expect(final.choices[0]!.finish_reason).toBe("tool_calls");
        expectValidCalls(final.choices[0]!.message.tool_calls as {function: {name: string, arguments: string}}[]);

        const chunks = [];
        for await (const chunk of await served.client.chat.completions.create({messages: question, tools, tool_choice: "required", temperature: 1, seed: 5, max_tokens: 300, stream: true}))
            chunks.push(chunk);
        const deltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
        expect(deltas.length).toBeGreaterThan(0);
        expect(deltas[0]!.index).toBe(0);
        expect(deltas[0]!.function!.arguments).toBe(final.choices[0]!.message.tool_calls![0]!.function.arguments);
        expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("tool_calls");
    });

    test("streamed text answers with tools offered are the text of the JSON answer, as the same request unstreamed", async () => {
        for (const seed of [7, 8, 9]) {
            const request = {messages: question, tools, temperature: 1, seed, max_tokens: 120};
            const whole = await served.client.chat.completions.create(request);
            let text = "";
            let finish: string | null = null;
            for await (const chunk of await served.client.chat.completions.create({...request, stream: true})) {
                text += chunk.choices[0]?.delta.content ?? "";
                finish = chunk.choices[0]?.finish_reason ?? finish;
            }
            expect(finish).toBe(whole.choices[0]!.finish_reason);
            // A text answer (an answer cut after complete calls has content null and streams none).
            if (whole.choices[0]!.message.tool_calls == null) expect(text).toBe(whole.choices[0]!.message.content);
        }
    });

    test("refusals: required without tools, a named function not offered, a schema keyword the grammar cannot honour", async () => {
        await expect(served.client.chat.completions.create({messages: question, tool_choice: "required"}))
            .rejects.toMatchObject({status: 400, param: "tool_choice"});
        await expect(served.client.chat.completions.create({messages: question, tools, tool_choice: {type: "function", function: {name: "nope"}}}))
            .rejects.toMatchObject({status: 400, param: "tool_choice"});
        await expect(served.client.chat.completions.create({messages: question,
            tools: [{type: "function", function: {name: "f", parameters: {type: "object", properties: {a: {type: "string", not: {}}}}}}]}))
            .rejects.toMatchObject({status: 400, param: "tools", message: expect.stringContaining("\"f\"")});
        await expect(served.client.chat.completions.create({messages: question, tools,
            response_format: {type: "json_object"}})).rejects.toMatchObject({status: 400});
    });
});
