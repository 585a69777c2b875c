import {LlamaText} from "node-llama-cpp";
import type {ChatCompletionTool} from "openai/resources/chat/completions";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {chatFormatFor, type ChatFormat} from "../../src/engine/chat/chatTemplate.js";
import {openModel, type OpenedModel} from "../../src/engine/index.js";
import {tinyModel} from "./helpers/runCli.js";
import {useServedClient} from "./helpers/serveProcess.js";
import {expectValidCall, toolSpecs, weatherParameters} from "./helpers/toolFixtures.js";

// A model whose chat template has tool support of its own (Mistral's v3 style): the tools and the
// history's calls and results are rendered in the template's format, and calls are answered in its
// syntax (`[TOOL_CALLS] [{"name", "arguments"}]`), held to the tools' schemas by a grammar.
const toolModel = tinyModel("tiny-q8_0-mistral-tools.gguf");
const question = [{role: "user" as const, content: "What is the weather in Paris?"}];

describe("a template with tool support renders tools its own way", () => {
    let opened: OpenedModel;
    let plainOpened: OpenedModel;
    let format: ChatFormat;
    beforeAll(async () => {
        opened = await openModel({path: toolModel, gpu: "cpu", threads: 1, contextSize: 256});
        plainOpened = await openModel({path: tinyModel(), gpu: "cpu", threads: 1, contextSize: 256});
        format = chatFormatFor(opened.model);
    });
    afterAll(async () => {
        await opened?.dispose();
        await plainOpened?.dispose();
    });

    test("the call syntax is read off the template; Mixtral 8x7B Instruct's template has none", () => {
        expect(format.tools?.syntax).toEqual({sectionPrefix: "[TOOL_CALLS] [", callPrefix: "{\"name\": \"", paramsPrefix: "\", \"arguments\": ",
            callSuffix: "}", betweenCalls: ", ", sectionSuffix: "]", optionalPrefixSpace: true});
        expect(chatFormatFor(plainOpened.model).tools).toBeUndefined();
    });

    test("tools as [AVAILABLE_TOOLS], an earlier call as [TOOL_CALLS], its result as [TOOL_RESULTS]", () => {
        const text = LlamaText(format.tools!.render("Be brief.", [
            ...question,
            {role: "assistant", content: "", toolCalls: [{id: "call_1", name: "get_weather", arguments: {city: "Paris", unit: "celsius"}}]},
            {role: "tool", toolCallId: "call_1", content: "18 degrees"},
            {role: "assistant", content: "It is 18 degrees."},
            {role: "user", content: "And in Rome?"}
        ], [{name: "get_weather", description: "The weather forecast for a city.", parameters: weatherParameters}])).toString();
        // The template's tojson writes JSON with spaces after ":" and ",", as Python's json.dumps.
        const parameters = JSON.stringify(weatherParameters).replace(/(":|,)/g, "$1 ");
        expect(text).toContain(`[AVAILABLE_TOOLS] [{"type": "function", "function": {"name": "get_weather", "description": "The weather forecast for a city.", "parameters": ${parameters}}}][/AVAILABLE_TOOLS]`);
        expect(text).toMatch(/\[INST\] Be brief\.\n\nWhat is the weather in Paris\?\[\/INST\]\[TOOL_CALLS\] \[\{"name": "get_weather", "arguments": \{"city": "Paris", "unit": "celsius"\}, "id": "\w+"\}\]/);
        expect(text).toMatch(/\[TOOL_RESULTS\] \{"content": "18 degrees", "call_id": "\w+"\}\[\/TOOL_RESULTS\]/);
        // The tools come before the last user turn, where the next answer starts.
        expect(text.trimEnd()).toMatch(/\[\/AVAILABLE_TOOLS\]\[INST\] And in Rome\?\[\/INST\]$/);
        // Without tools offered (tool_choice none), the history's calls are still the template's.
        const history = LlamaText(format.tools!.render(undefined, [
            ...question,
            {role: "assistant", content: "", toolCalls: [{id: "call_1", name: "get_weather", arguments: {city: "Paris"}}]},
            {role: "tool", toolCallId: "call_1", content: "18"}
        ], [])).toString();
        expect(history).not.toContain("[AVAILABLE_TOOLS]");
        expect(history).toContain("[TOOL_CALLS] [{\"name\": \"get_weather\"");
        // The answer continues after the result.
        expect(history.trimEnd()).toMatch(/\[\/TOOL_RESULTS\]$/);
    });
});

describe("mixtral serve on a model whose template has tools", () => {
    const tools: ChatCompletionTool[] = toolSpecs.map((spec) => ({type: "function", function: spec}));
    const served = useServedClient(["--parallel", "2", "--context-size", "1024"], {model: toolModel});

    test("required and named: calls in the template's syntax, parsed, valid against their schemas, streamed too", async () => {
        const requests = [
            ...[1, 2, 3].map((seed) => ({seed, tool_choice: "required" as const})),
            ...[4, 5].map((seed) => ({seed, tool_choice: {type: "function" as const, function: {name: "get_time"}}}))
        ];
        const answers = await Promise.all(requests.map(({seed, tool_choice}) => served.client.chat.completions.create({
            messages: question, tools, tool_choice, parallel_tool_calls: false, temperature: 1, seed, max_tokens: 300
        })));
        answers.forEach((answer, index) => {
            const choice = answer.choices[0]!;
            expect(choice.finish_reason, JSON.stringify(choice.message)).toBe("tool_calls");
            expect(choice.message.tool_calls).toHaveLength(1);
            const call = choice.message.tool_calls![0]! as {function: {name: string, arguments: string}};
            expectValidCall(call.function.name, JSON.parse(call.function.arguments), typeof requests[index]!.tool_choice === "object" ? ["get_time"] : undefined);
        });
        // The tokens of the answer spell the template's syntax, not the generic {"tool_call": …} JSON.
        const traced = await served.client.chat.completions.create({messages: question, tools, tool_choice: "required", temperature: 1, seed: 1, max_tokens: 300, logprobs: true});
        expect(traced.choices[0]!.logprobs!.content!.map((entry) => entry.token).join("").trimStart()).toMatch(/^\[TOOL_CALLS\] ?\[ ?\{"name": ?"get_/);
        const final = await served.client.chat.completions.stream({messages: question, tools, tool_choice: "required", temperature: 1, seed: 6, max_tokens: 300}).finalChatCompletion();
        expect(final.choices[0]!.finish_reason).toBe("tool_calls");
        for (const call of final.choices[0]!.message.tool_calls! as {function: {name: string, arguments: string}}[])
            expectValidCall(call.function.name, JSON.parse(call.function.arguments));
    });

    test("the prompt is the template's: tools cost what their [AVAILABLE_TOOLS] JSON costs, a history with a result is taken", async () => {
        const plain = await served.client.chat.completions.create({messages: question, temperature: 0, max_tokens: 1});
        const offered = await served.client.chat.completions.create({messages: question, tools, temperature: 0, max_tokens: 1});
        expect(offered.usage!.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens + 50);
        const none = await served.client.chat.completions.create({messages: question, tools, tool_choice: "none", temperature: 0, max_tokens: 4});
        expect(none.usage!.prompt_tokens).toBe(plain.usage!.prompt_tokens);
        const history = await served.client.chat.completions.create({messages: [
            ...question,
            {role: "assistant", content: null, tool_calls: [{id: "call_1", type: "function", function: {name: "get_weather", arguments: "{\"city\":\"Paris\",\"unit\":\"celsius\"}"}}]},
            {role: "tool", tool_call_id: "call_1", content: "18"}
        ], tools, temperature: 0, max_tokens: 40});
        expect(["stop", "length", "tool_calls"]).toContain(history.choices[0]!.finish_reason);
        expect(history.usage!.prompt_tokens).toBeGreaterThan(offered.usage!.prompt_tokens);
    });
});
