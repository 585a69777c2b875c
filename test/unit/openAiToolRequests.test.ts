import {describe, expect, test} from "vitest";
import {HttpError} from "../../src/server/core/httpError.js";
import {parseChatRequest} from "../../src/server/openai/parseRequest.js";
import {parseResponsesRequest} from "../../src/server/openai/parseResponsesRequest.js";
import {planToolUse} from "../../src/server/core/tools/toolPlan.js";

const tool = {type: "function", function: {name: "get_weather", parameters: {type: "object", properties: {city: {type: "string"}}}}};

describe("OpenAI requests with tools, as the neutral request", () => {
    test("an agent's history: content null with tool_calls, a tool result last; tools, choice and parallel kept", () => {
        const {request} = parseChatRequest({
            messages: [
                {role: "system", content: "Be brief."},
                {role: "user", content: "Weather in Paris?"},
                {role: "assistant", content: null, tool_calls: [{id: "call_1", type: "function", function: {name: "get_weather", arguments: "{\"city\":\"Paris\"}"}}]},
                {role: "tool", tool_call_id: "call_1", content: "18"}
            ],
            tools: [tool], tool_choice: {type: "function", function: {name: "get_weather"}}, parallel_tool_calls: false
        }, 2048);
        expect(request).toMatchObject({
            kind: "chat",
            conversation: {system: "Be brief.", messages: [
                {role: "user", content: "Weather in Paris?"},
                {role: "assistant", content: "", toolCalls: [{id: "call_1", name: "get_weather", arguments: {city: "Paris"}}]},
                {role: "tool", toolCallId: "call_1", content: "18"}
            ]},
            tools: [{name: "get_weather", parameters: tool.function.parameters}],
            toolChoice: {name: "get_weather"},
            parallelToolCalls: false
        });
    });

    test("a tool without parameters takes none; logprobs and top_logprobs become the sampling's", () => {
        const {request} = parseChatRequest({messages: [{role: "user", content: "Hi"}], tools: [{type: "function", function: {name: "now"}}],
            tool_choice: "required", logprobs: true, top_logprobs: 4}, 2048);
        expect(request).toMatchObject({tools: [{name: "now", parameters: {type: "object", properties: {}}}], toolChoice: "required", sampling: {logprobs: 4}});
    });

    test("refusals name the parameter", () => {
        const refused = (body: Record<string, unknown>) => {
            try {
                parseChatRequest({messages: [{role: "user", content: "Hi"}], ...body}, 2048);
            } catch (error) {
                expect(error).toBeInstanceOf(HttpError);
                return (error as HttpError).options.param;
            }
            throw new Error("not refused");
        };
        expect(refused({tools: [{type: "web_search"}]})).toBe("tools[0]");
        expect(refused({tools: [tool, tool]})).toBe("tools[1].function.name");
        expect(refused({tool_choice: "sometimes"})).toBe("tool_choice");
        expect(refused({top_logprobs: 2})).toBe("top_logprobs");
        expect(refused({logprobs: true, top_logprobs: 21})).toBe("top_logprobs");
        // An assistant message last is a prefill; with tools offered its answer's grammar could not continue it.
        const prefill = parseChatRequest({messages: [{role: "user", content: "Hi"}, {role: "assistant", content: "Hello"}], tools: [tool]}, 2048).request;
        expect(prefill.kind === "chat" && prefill.conversation.messages.at(-1)).toEqual({role: "assistant", content: "Hello"});
        expect(() => planToolUse(prefill as Extract<typeof prefill, {kind: "chat"}>)).toThrow(/cannot be combined with tools/);
        expect(planToolUse({...prefill, tools: []} as Extract<typeof prefill, {kind: "chat"}>).conversation.messages.at(-1)).toEqual({role: "assistant", content: "Hello"});
    });
});

describe("Responses requests, as the neutral request", () => {
    test("input items: messages, function calls (one after another: one turn) and their outputs; instructions as system", () => {
        const parsed = parseResponsesRequest({
            instructions: "Be brief.", max_output_tokens: 50, temperature: 0,
            tools: [{type: "function", name: "get_weather", parameters: tool.function.parameters}], tool_choice: {type: "function", name: "get_weather"},
            input: [
                {role: "user", content: [{type: "input_text", text: "Weather in Paris and Rome?"}]},
                {type: "function_call", call_id: "c1", name: "get_weather", arguments: "{\"city\":\"Paris\"}"},
                {type: "function_call", call_id: "c2", name: "get_weather", arguments: "{\"city\":\"Rome\"}"},
                {type: "function_call_output", call_id: "c1", output: "18"},
                {type: "function_call_output", call_id: "c2", output: "25"}
            ]
        }, 2048);
        expect(parsed.request).toMatchObject({
            sampling: {maxTokens: 50, temperature: 0},
            conversation: {system: "Be brief.", messages: [
                {role: "user", content: "Weather in Paris and Rome?"},
                {role: "assistant", toolCalls: [{id: "c1", arguments: {city: "Paris"}}, {id: "c2", arguments: {city: "Rome"}}]},
                {role: "tool", toolCallId: "c1", content: "18"},
                {role: "tool", toolCallId: "c2", content: "25"}
            ]},
            tools: [{name: "get_weather"}], toolChoice: {name: "get_weather"}
        });
        expect(parsed.echo).toMatchObject({instructions: "Be brief.", maxOutputTokens: 50});
    });

    test("a string input; text.format json_schema is a grammar; include logprobs", () => {
        const parsed = parseResponsesRequest({input: "Hi", text: {format: {type: "json_schema", name: "x", schema: {type: "object", properties: {a: {type: "boolean"}}}}},
            include: ["message.output_text.logprobs"], top_logprobs: 2}, 2048);
        expect(parsed.request.conversation).toEqual({system: undefined, messages: [{role: "user", content: "Hi"}]});
        expect(parsed.request.sampling.grammar?.gbnf).toContain("true");
        expect(parsed.request.sampling.logprobs).toBe(2);
        expect(parsed.logprobs).toBe(true);
        expect(() => parseResponsesRequest({input: "Hi", text: {format: {type: "json_schema", name: "x", schema: {not: {}}}}}, 2048))
            .toThrow(/text\.format\.schema: .*"not"/);
    });
});
