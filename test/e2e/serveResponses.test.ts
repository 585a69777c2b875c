import {Ajv} from "ajv";
import {describe, expect, test} from "vitest";
import {useServedClient} from "./helpers/serveProcess.js";

// POST /v1/responses through the real `openai` client: stateless, the same chat as
// /v1/chat/completions, streamed with the `response.*` events the client accumulates.
const served = useServedClient(["--parallel", "2", "--context-size", "2048"]);

const weather = {type: "object", properties: {city: {type: "string", maxLength: 20}, unit: {type: "string", enum: ["celsius", "fahrenheit"]}},
    required: ["city", "unit"], additionalProperties: false};

describe("the Responses API on mixtral serve", () => {
    test("plain: input, instructions and max_output_tokens answered as the same chat completion", async () => {
        const response = await served.client.responses.create({model: "gpt-4o-mini", instructions: "Be brief.", input: "Tell me a story.",
            max_output_tokens: 12, temperature: 0});
        const chat = await served.client.chat.completions.create({messages: [{role: "system", content: "Be brief."}, {role: "user", content: "Tell me a story."}],
            max_tokens: 12, temperature: 0});
        expect(response.object).toBe("response");
        expect(response.model).toBe("gpt-4o-mini");
        expect(response.output_text).toBe(chat.choices[0]!.message.content);
        expect(response.usage!.output_tokens).toBe(chat.usage!.completion_tokens);
        expect(response.usage!.input_tokens).toBe(chat.usage!.prompt_tokens);
        expect(response.status).toBe(chat.choices[0]!.finish_reason === "length" ? "incomplete" : "completed");
        if (response.status === "incomplete") expect(response.incomplete_details).toEqual({reason: "max_output_tokens"});
        expect(response.instructions).toBe("Be brief.");
    });

    test("streamed: the client's accumulated response equals the unstreamed one, events in order", async () => {
        const request = {input: [{role: "user" as const, content: "Tell me a story."}], max_output_tokens: 12, temperature: 0};
        const whole = await served.client.responses.create(request);
        const stream = served.client.responses.stream(request);
        const types: string[] = [];
        stream.on("event", (event) => types.push(event.type));
        const final = await stream.finalResponse();
        expect(final.output_text).toBe(whole.output_text);
        expect(final.status).toBe(whole.status);
        expect(types[0]).toBe("response.created");
        expect(types).toContain("response.output_text.delta");
        expect(types.at(-1)).toBe(whole.status === "completed" ? "response.completed" : "response.incomplete");
        expect(types.indexOf("response.output_item.added")).toBeLessThan(types.indexOf("response.output_text.delta"));
    });

    test("text.format json_schema: the output validates", async () => {
        const validate = new Ajv({strict: true}).compile(weather);
        for (const seed of [1, 2, 3]) {
            const response = await served.client.responses.create({input: "Weather as JSON", temperature: 1, max_output_tokens: 200,
                text: {format: {type: "json_schema", name: "weather", schema: weather, strict: true}}, ...{seed}});
            expect(validate(JSON.parse(response.output_text)), response.output_text).toBe(true);
        }
    });

    test("tools: a required call is a function_call item, streamed too, and a history with its output is taken", async () => {
        const validate = new Ajv({strict: true}).compile(weather);
        const tools = [{type: "function" as const, name: "get_weather", description: "Weather in a city.", parameters: weather, strict: true}];
        const response = await served.client.responses.create({input: "Weather in Paris?", tools, tool_choice: "required", temperature: 1, max_output_tokens: 200});
        const call = response.output.find((item) => item.type === "function_call");
        expect(call?.type).toBe("function_call");
        if (call?.type !== "function_call") return;
        expect(call.name).toBe("get_weather");
        expect(validate(JSON.parse(call.arguments)), call.arguments).toBe(true);

        const stream = served.client.responses.stream({input: "Weather in Paris?", tools, tool_choice: "required", temperature: 1, max_output_tokens: 200});
        const final = await stream.finalResponse();
        const streamedCall = final.output.find((item) => item.type === "function_call");
        expect(streamedCall?.type === "function_call" && validate(JSON.parse(streamedCall.arguments))).toBe(true);

        const followUp = await served.client.responses.create({tools, temperature: 0, max_output_tokens: 10, input: [
            {role: "user", content: "Weather in Paris?"},
            {type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments},
            {type: "function_call_output", call_id: call.call_id, output: "18 degrees and sunny"}
        ]});
        expect(["completed", "incomplete"]).toContain(followUp.status);
    });

    test("logprobs: include message.output_text.logprobs with top_logprobs, the chat's numbers", async () => {
        const response = await served.client.responses.create({input: "Tell me a story.", max_output_tokens: 6, temperature: 0,
            include: ["message.output_text.logprobs"], top_logprobs: 2});
        const chat = await served.client.chat.completions.create({messages: [{role: "user", content: "Tell me a story."}], max_tokens: 6, temperature: 0,
            logprobs: true, top_logprobs: 2});
        const message = response.output.find((item) => item.type === "message");
        const part = message?.type === "message" ? message.content[0] : undefined;
        const logprobs = part?.type === "output_text" ? part.logprobs ?? [] : [];
        expect(logprobs.map((entry) => entry.token)).toEqual(chat.choices[0]!.logprobs!.content!.map((entry) => entry.token));
        expect(logprobs[0]!.top_logprobs).toHaveLength(2);
    });

    test("previous_response_id is refused: nothing is stored", async () => {
        await expect(served.client.responses.create({input: "Hi", previous_response_id: "resp_1"}))
            .rejects.toMatchObject({status: 400, param: "previous_response_id"});
    });
});
