import {describe, expect, test} from "vitest";
import {samplingDefaults} from "../../src/generator/sampling.js";
import {corsPolicy} from "../../src/server/core/cors.js";
import {HttpError} from "../../src/server/core/httpError.js";
import {parseCountTokensRequest, parseMessagesRequest} from "../../src/server/anthropic/parseRequest.js";
import {parseChatRequest, parseGenerateRequest} from "../../src/server/ollama/parseRequest.js";

// The dialects' translations into neutral requests, without a model: what each field becomes,
// and the one sentence each refusal is.
function refusal(run: () => unknown): HttpError {
    try {
        run();
    } catch (error) {
        if (error instanceof HttpError) return error;
        throw error;
    }
    throw new Error("not refused");
}

describe("Ollama requests", () => {
    test("options become the sampling; left out, the CLI's defaults; num_predict -1 runs to the end of the context", () => {
        const {request} = parseChatRequest({model: "m", messages: [{role: "system", content: "S"}, {role: "user", content: "U"}],
            options: {temperature: 0.2, top_k: 5, top_p: 0.5, min_p: 0.1, seed: -1, stop: ["x"], repeat_penalty: 1.2, presence_penalty: 0.3, frequency_penalty: 0.4, num_predict: 9, num_thread: 8}}, 1024);
        expect(request).toEqual({kind: "chat", stream: true, conversation: {system: "S", messages: [{role: "user", content: "U"}]},
            sampling: {maxTokens: 9, temperature: 0.2, topK: 5, topP: 0.5, minP: 0.1, seed: 2 ** 32 - 1, stop: ["x"], repeatPenalty: 1.2, presencePenalty: 0.3, frequencyPenalty: 0.4}});
        const plain = parseGenerateRequest({prompt: "P", stream: false, options: {num_predict: -1}}, 1024).request!;
        expect(plain.stream).toBe(false);
        expect(plain.sampling).toMatchObject({maxTokens: 1024, temperature: samplingDefaults.temperature, topK: samplingDefaults.topK, topP: samplingDefaults.topP, minP: samplingDefaults.minP});
        expect(parseGenerateRequest({prompt: "P", raw: true}, 1024).request).toMatchObject({kind: "complete", prompt: "P"});
        expect(parseGenerateRequest({prompt: "P", system: "S"}, 1024).request).toMatchObject({kind: "chat", conversation: {system: "S", messages: [{role: "user", content: "P"}]}});
        expect(parseChatRequest({model: "m"}, 1024).request).toBeUndefined();
        expect(parseGenerateRequest({model: "m", keep_alive: 0}, 1024).request).toBeUndefined();
        expect(parseChatRequest({messages: [{role: "user", content: "U"}], format: "json"}, 1024).request!.sampling.grammar?.describes).toBe("JSON");
    });

    test("tools as OpenAI nests them; a history of calls (arguments as objects, no ids) and results named by tool_name or by order", () => {
        const parameters = {type: "object", properties: {city: {type: "string"}}};
        const {request} = parseChatRequest({messages: [
            {role: "user", content: "Weather in Paris and Rome?"},
            {role: "assistant", content: "", tool_calls: [{function: {name: "get_weather", arguments: {city: "Paris"}}}, {function: {name: "get_time", arguments: {}}}]},
            {role: "tool", content: "18"},
            {role: "tool", content: "noon", tool_name: "get_time"},
            {role: "tool", content: "?"}
        ], tools: [{type: "function", function: {name: "get_weather", description: "Weather.", parameters}}]}, 1024);
        expect(request).toMatchObject({kind: "chat", tools: [{name: "get_weather", description: "Weather.", parameters}], conversation: {messages: [
            {role: "user"},
            {role: "assistant", content: "", toolCalls: [{id: "call_0", name: "get_weather", arguments: {city: "Paris"}}, {id: "call_1", name: "get_time", arguments: {}}]},
            {role: "tool", name: "get_weather", content: "18"},
            {role: "tool", name: "get_time", content: "noon"},
            {role: "tool", content: "?"}
        ]}});
        expect(request).not.toHaveProperty("toolChoice");
        expect(parseChatRequest({messages: [{role: "user", content: "U"}], tools: []}, 1024).request).not.toHaveProperty("tools");
    });

    test("refusals name the field in one sentence", () => {
        const user = [{role: "user", content: "U"}];
        expect(refusal(() => parseChatRequest({messages: user, options: {num_ctx: 2048}}, 1024)).message).toBe(
            "options.num_ctx is 2048, but each request of this server holds at most 1024 tokens: restart `mixtral serve` with a larger --context-size (or fewer --parallel sequences to make room), or send a smaller num_ctx.");
        expect(parseChatRequest({messages: user, options: {num_ctx: 512}}, 1024).request).toBeDefined();
        expect(refusal(() => parseChatRequest({messages: user, options: {top_k: "a"}}, 1024)).message).toBe("options.top_k must be an integer.");
        expect(refusal(() => parseGenerateRequest({prompt: "P", images: ["aGk="]}, 1024)).message).toBe("images are not supported: Mixtral 8x7B reads text only.");
        expect(refusal(() => parseChatRequest({messages: user, tools: [{type: "retrieval"}]}, 1024)).message).toMatch(/^tools\[0\] must be a function tool/);
        expect(refusal(() => parseChatRequest({messages: user, think: true}, 1024)).message).toMatch(/^think is not supported/);
        expect(refusal(() => parseChatRequest({messages: user, format: {type: "object", properties: {a: {type: "string", format: "email"}}}}, 1024)).message).toMatch(/^format: /);
        expect(refusal(() => parseGenerateRequest({prompt: "P", suffix: "S"}, 1024)).message).toMatch(/^suffix is not supported/);
    });
});

describe("Anthropic requests", () => {
    test("system and content blocks are joined text; max_tokens, temperature, top_p, top_k, stop_sequences become the sampling", () => {
        const {model, request} = parseMessagesRequest({
            model: "claude", max_tokens: 7, temperature: 0.5, top_p: 0.9, top_k: 3, stop_sequences: ["END"], stream: true, metadata: {user_id: "u"},
            system: [{type: "text", text: "A"}, {type: "text", text: "B", cache_control: {type: "ephemeral"}}],
            messages: [{role: "user", content: [{type: "text", text: "x"}, {type: "text", text: "y"}]}, {role: "assistant", content: "z"}, {role: "user", content: "w"}]
        }, 1024);
        expect(model).toBe("claude");
        expect(request).toEqual({kind: "chat", stream: true,
            conversation: {system: "AB", messages: [{role: "user", content: "xy"}, {role: "assistant", content: "z"}, {role: "user", content: "w"}]},
            sampling: {maxTokens: 7, temperature: 0.5, topP: 0.9, topK: 3, minP: samplingDefaults.minP, repeatPenalty: samplingDefaults.repeatPenalty,
                presencePenalty: samplingDefaults.presencePenalty, frequencyPenalty: samplingDefaults.frequencyPenalty, stop: ["END"]}});
        expect(parseCountTokensRequest({messages: [{role: "user", content: "hi"}], system: "S"})).toEqual({conversation: {system: "S", messages: [{role: "user", content: "hi"}]}});
    });

    test("tools with input_schema, tool_choice auto/any/tool/none, tool_use blocks of the assistant and tool_result blocks of the user", () => {
        const schema = {type: "object", properties: {city: {type: "string"}}};
        const {request} = parseMessagesRequest({max_tokens: 9, tools: [{name: "get_weather", description: "Weather.", input_schema: schema}],
            tool_choice: {type: "any", disable_parallel_tool_use: true}, messages: [
                {role: "user", content: "Weather?"},
                {role: "assistant", content: [{type: "text", text: "Looking."}, {type: "tool_use", id: "toolu_1", name: "get_weather", input: {city: "Paris"}}]},
                {role: "user", content: [{type: "tool_result", tool_use_id: "toolu_1", content: [{type: "text", text: "18"}]}, {type: "text", text: "And tomorrow?"}]},
                {role: "assistant", content: [{type: "tool_use", id: "toolu_2", name: "get_weather", input: {city: "Paris"}}]},
                {role: "user", content: [{type: "tool_result", tool_use_id: "toolu_2", content: "no such day", is_error: true}]}
            ]}, 1024);
        expect(request).toMatchObject({tools: [{name: "get_weather", description: "Weather.", parameters: schema}], toolChoice: "required", parallelToolCalls: false,
            conversation: {messages: [
                {role: "user", content: "Weather?"},
                {role: "assistant", content: "Looking.", toolCalls: [{id: "toolu_1", name: "get_weather", arguments: {city: "Paris"}}]},
                {role: "tool", toolCallId: "toolu_1", content: "18"},
                {role: "user", content: "And tomorrow?"},
                {role: "assistant", content: "", toolCalls: [{id: "toolu_2", name: "get_weather", arguments: {city: "Paris"}}]},
                {role: "tool", toolCallId: "toolu_2", content: "Error: no such day"}
            ]}});
        const choice = (tool_choice: unknown) => parseMessagesRequest({messages: [{role: "user", content: "hi"}], tools: [{name: "f", input_schema: {type: "object"}}], tool_choice}, 1024).request;
        expect(choice({type: "auto"})).toMatchObject({toolChoice: "auto"});
        expect(choice({type: "none"})).toMatchObject({toolChoice: "none"});
        expect(choice({type: "tool", name: "f"})).toMatchObject({toolChoice: {name: "f"}});
        expect(choice(undefined)).not.toHaveProperty("toolChoice");
        expect(parseCountTokensRequest({messages: [{role: "user", content: "hi"}], tools: [{name: "f", input_schema: {type: "object"}}]}))
            .toMatchObject({tools: [{name: "f"}]});
    });

    test("server tools, tool blocks in the wrong role, a tool without input_schema, images and extended thinking are refused in one sentence; a prefill is taken", () => {
        const user = [{role: "user", content: "hi"}];
        expect(refusal(() => parseMessagesRequest({messages: user, tools: [{type: "web_search_20250305", name: "web_search"}]}, 1024)).message)
            .toBe("tools.0 is a \"web_search_20250305\" tool: only custom tools ({\"name\", \"description\", \"input_schema\"}) are supported.");
        expect(refusal(() => parseMessagesRequest({messages: user, tools: [{name: "f"}]}, 1024)).message).toBe("tools.0.input_schema is required.");
        expect(refusal(() => parseMessagesRequest({messages: user, tools: [{name: "f", input_schema: {}}], tool_choice: {type: "sometimes"}}, 1024)).message).toMatch(/^tool_choice must be/);
        expect(refusal(() => parseMessagesRequest({messages: [{role: "user", content: [{type: "tool_use", id: "t", name: "f", input: {}}]}]}, 1024)).message)
            .toBe("messages.0.content.0: tool_use blocks belong in assistant messages.");
        expect(refusal(() => parseMessagesRequest({messages: [{role: "user", content: [{type: "image", source: {}}]}]}, 1024)).message)
            .toBe("image blocks are not supported: Mixtral 8x7B reads text only.");
        expect(parseMessagesRequest({messages: [...user, {role: "assistant", content: "Well"}]}, 1024).request.conversation.messages.at(-1))
            .toEqual({role: "assistant", content: "Well"});
        expect(refusal(() => parseMessagesRequest({messages: user, thinking: {type: "enabled", budget_tokens: 1024}}, 1024)).message).toMatch(/^thinking is not supported/);
        expect(parseMessagesRequest({messages: user, thinking: {type: "disabled"}}, 1024).request.kind).toBe("chat");
    });
});

describe("CORS policy", () => {
    test("pages of this machine and editor shells by default; --cors adds exact origins and prefixes ending in *", () => {
        const policy = corsPolicy(["https://App.Example/", "chrome-extension://*"]);
        for (const origin of ["http://localhost", "https://localhost:8443", "http://127.0.0.1:5173", "http://[::1]:3000", "http://0.0.0.0:80",
            "app://obsidian.md", "vscode-webview://abc", "tauri://localhost", "https://app.example", "chrome-extension://abc"])
            expect(policy.allows(origin), origin).toBe(true);
        for (const origin of ["https://evil.example", "http://localhost.evil.example", "null", "http://127.0.0.2", "https://app.example.evil"])
            expect(policy.allows(origin), origin).toBe(false);
        expect(policy.any).toBe(false);
        expect(corsPolicy(["*"]).allows("https://evil.example")).toBe(true);
        expect(corsPolicy(["*"]).any).toBe(true);
    });
});
