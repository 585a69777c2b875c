import {describe, expect, test} from "vitest";
import {checkGbnf} from "../../src/grammar/parseGbnf.js";
import {HttpError} from "../../src/server/core/httpError.js";
import {toolAnswerGrammar} from "../../src/server/core/tools/toolAnswerGrammar.js";
import {ToolAnswerReader, type ToolReader} from "../../src/server/core/tools/toolAnswerReader.js";
import {toolTranscript} from "../../src/server/core/tools/toolTranscript.js";
import {callListOpening, TemplateCallReader, templateCallGrammar} from "../../src/server/core/tools/templateToolCalls.js";

const weather = {name: "get_weather", description: "Weather in a city.",
    parameters: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}};

/** Feeds `text` to a reader in pieces of `size` characters; returns what streamed and the finish. */
function read(text: string, size: number, reader: ToolReader = new ToolAnswerReader()) {
    let streamed = "";
    const streamedCalls = [];
    for (let at = 0; at < text.length; at += size) {
        const piece = reader.push(text.slice(at, at + size));
        streamed += piece.text;
        streamedCalls.push(...piece.calls);
    }
    return {streamed, streamedCalls, ...reader.finish()};
}

describe("reading a tool answer as it streams", () => {
    test("a text answer streams its decoded string, escapes split across pieces included", () => {
        const answer = JSON.stringify({response: "Line one\nsaid \"hé\" \u00e9 😀 \\ done"}).replace("é", "\\u00e9").replace("😀", "\\ud83d\\ude00");
        const expected = (JSON.parse(answer) as {response: string}).response;
        for (const size of [1, 2, 3, 7, answer.length]) {
            const {streamed, text, toolCalls} = read(answer, size);
            expect(streamed, `pieces of ${size}`).toBe(expected);
            expect(text).toBe(expected);
            expect(toolCalls).toEqual([]);
        }
        // The optional space after the colon may come in its own piece.
        expect(read("{\"response\": \"ok\"}", 1).streamed).toBe("ok");
    });

    test("each call comes out whole when its object closes, with an id of its own, braces inside strings not counted", () => {
        const one = read(JSON.stringify({tool_call: {name: "get_weather", arguments: {city: "Paris {\"x\"}"}}}), 4);
        expect(one.streamed).toBe("");
        expect(one.toolCalls).toMatchObject([{name: "get_weather", arguments: {city: "Paris {\"x\"}"}}]);
        expect(one.toolCalls[0]!.id).toMatch(/^call_[0-9a-f]{24}$/);
        expect(one.streamedCalls).toEqual(one.toolCalls);
        for (const size of [1, 5, 1000]) {
            const many = read(JSON.stringify({tool_calls: [{name: "a", arguments: {list: [{}, []]}}, {name: "b", arguments: {x: 1}}]}), size);
            expect(many.toolCalls.map((call) => call.name)).toEqual(["a", "b"]);
            expect(many.toolCalls[0]!.arguments).toEqual({list: [{}, []]});
            expect(new Set(many.toolCalls.map((call) => call.id)).size).toBe(2);
            expect(many.streamedCalls).toEqual(many.toolCalls);
        }
    });

    test("a cut answer: the text so far, the calls that were complete", () => {
        expect(read("{\"response\": \"Once upon", 3)).toMatchObject({text: "Once upon", toolCalls: []});
        expect(read("{\"tool_call\": {\"name\": \"get_weather\", \"argu", 3)).toMatchObject({text: "", toolCalls: []});
        expect(read("{\"tool_calls\": [{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"argu", 2).toolCalls.map((call) => call.name)).toEqual(["a"]);
        expect(read("{\"resp", 2)).toEqual({streamed: "", streamedCalls: [], text: "", toolCalls: []});
    });
});

describe("the grammar of a tool answer", () => {
    test("auto, required and parallel grammars are valid GBNF; a tool's own $defs and recursion resolve", () => {
        const tree = {name: "tree", parameters: {type: "object", properties: {node: {$ref: "#/$defs/node"}},
            $defs: {node: {type: "object", properties: {label: {type: "string"}, children: {type: "array", items: {$ref: "#/$defs/node"}, maxItems: 2}}}}}};
        for (const options of [{required: false, parallel: false}, {required: true, parallel: false}, {required: true, parallel: true}]) {
            const grammar = toolAnswerGrammar([weather, tree], options);
            expect(checkGbnf(grammar.gbnf), grammar.gbnf).toBeUndefined();
            expect(grammar.closed).toBe(true);
            expect(grammar.gbnf.includes("response")).toBe(!options.required);
            expect(grammar.gbnf.includes("tool_calls")).toBe(options.parallel);
        }
    });

    test("a keyword the grammar cannot honour is a 400 naming the tool", () => {
        const bad = {name: "f", parameters: {type: "object", properties: {a: {not: {}}}}};
        expect(() => toolAnswerGrammar([weather, bad], {required: false, parallel: true})).toThrow(HttpError);
        expect(() => toolAnswerGrammar([bad], {required: false, parallel: true})).toThrow(/tool "f".*"not"/);
    });
});

describe("a conversation with tools as plain chat", () => {
    test("tools described in the system text, calls as the model's JSON answers, results as user turns named by the call", () => {
        const transcript = toolTranscript({system: "Be brief.", messages: [
            {role: "user", content: "Weather in Paris and Rome?"},
            {role: "assistant", content: "", toolCalls: [{id: "call_1", name: "get_weather", arguments: {city: "Paris"}},
                {id: "call_2", name: "get_weather", arguments: {city: "Rome"}}]},
            {role: "tool", toolCallId: "call_1", content: "18"},
            {role: "tool", toolCallId: "call_2", content: "25"}
        ]}, [weather], true);
        expect(transcript.system).toMatch(/^Be brief\.\n\nYou can call any of the following tools/);
        expect(transcript.system).toContain("\"get_weather\"");
        expect(transcript.messages.map((message) => message.role)).toEqual(["user", "assistant", "user"]);
        expect(JSON.parse(transcript.messages[1]!.content)).toEqual({tool_calls: [{name: "get_weather", arguments: {city: "Paris"}},
            {name: "get_weather", arguments: {city: "Rome"}}]});
        const results = transcript.messages[2]!.content.split("\n\n").map((part) => JSON.parse(part) as unknown);
        expect(results).toEqual([{tool_response: {tool: "get_weather", content: "18"}}, {tool_response: {tool: "get_weather", content: "25"}}]);
    });

    test("no tools offered (tool_choice none): no description, the history still rendered", () => {
        const transcript = toolTranscript({messages: [{role: "user", content: "Hi"}]}, [], true);
        expect(transcript).toEqual({system: undefined, messages: [{role: "user", content: "Hi"}]});
    });
});

describe("calls in a template's own syntax (Mistral's v3: [TOOL_CALLS] [...])", () => {
    const syntax = {sectionPrefix: "[TOOL_CALLS] [", callPrefix: "{\"name\": \"", paramsPrefix: "\", \"arguments\": ", callSuffix: "}",
        betweenCalls: ", ", sectionSuffix: "]", optionalPrefixSpace: true};

    const readTemplate = (text: string, size: number) => read(text, size, new TemplateCallReader("[TOOL_CALLS] "));

    test("the opening is read off a JSON-list syntax; another syntax keeps the generic path", () => {
        expect(callListOpening(syntax)).toBe("[TOOL_CALLS] ");
        expect(callListOpening({...syntax, callPrefix: "<tool_call>{\"name\": \""})).toBeUndefined();
        expect(callListOpening({...syntax, sectionPrefix: ""})).toBeUndefined();
    });

    test("calls come out as each closes, in pieces of any size; text (never starting with a bracket, by the grammar) streams as text", () => {
        const calls = "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris ]}\"}}, {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}]";
        for (const size of [1, 3, calls.length]) {
            const read = readTemplate(calls, size);
            expect(read.streamed).toBe("");
            expect(read.toolCalls.map((call) => call.arguments)).toEqual([{city: "Paris ]}"}, {city: "Rome"}]);
            expect(read.streamedCalls).toEqual(read.toolCalls);
        }
        for (const size of [1, 4]) {
            const read = readTemplate("TOOL_CALLS is how it starts", size);
            expect(read.streamed).toBe("TOOL_CALLS is how it starts");
            expect(read.toolCalls).toEqual([]);
        }
        expect(readTemplate(" [TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {}}]", 2).toolCalls).toHaveLength(1);
        // The opening as a control token decodes as nothing: the list alone is the calls.
        expect(readTemplate("[{\"name\": \"get_weather\", \"arguments\": {}}]", 1).toolCalls).toHaveLength(1);
        // Cut after one complete call: that call.
        expect(readTemplate(calls.slice(0, calls.indexOf(", {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome")), 5).toolCalls).toHaveLength(1);
    });

    test("required and auto grammars are valid GBNF: the opening, then the list of calls; auto allows text that does not start with [", () => {
        const required = templateCallGrammar([weather], "[TOOL_CALLS] ", {required: true, parallel: false});
        expect(() => checkGbnf(required.gbnf)).not.toThrow();
        expect(required.gbnf).toMatch(/^root ::= " "\? "\[TOOL_CALLS\] " space tool-call-list$/m);
        expect(required.closed).toBe(true);
        const auto = templateCallGrammar([weather], "[TOOL_CALLS] ", {required: false, parallel: true});
        expect(() => checkGbnf(auto.gbnf)).not.toThrow();
        expect(auto.gbnf).toMatch(/^root ::= .* \| text-answer$/m);
    });
});
