import {createOpenAICompatible} from "@ai-sdk/openai-compatible";
import {generateText, stepCountIs, tool} from "ai";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {z} from "zod";
import {startServe, stopAllServers, type ServeProcess} from "./helpers/serveProcess.js";

// The AI SDK's generateText with tools, through @ai-sdk/openai-compatible and nothing changed but
// the base URL: it sends zod-written schemas, reads tool_calls, runs the tool, and sends the
// history (an assistant turn with tool_calls and content null, a tool message) back.
let server: ServeProcess;

beforeAll(async () => {
    server = await startServe(["--parallel", "2", "--context-size", "2048"]);
});
afterAll(stopAllServers);

describe("the AI SDK's generateText with tools on mixtral serve", () => {
    test("a required tool call is parsed, executed with valid input, and the second step takes its result", async () => {
        const provider = createOpenAICompatible({name: "mixtral", baseURL: server.baseUrl, apiKey: "unused"});
        const inputs: unknown[] = [];
        const weather = tool({
            description: "The weather forecast for a city.",
            inputSchema: z.object({city: z.string().max(20), unit: z.enum(["celsius", "fahrenheit"]), hourly: z.boolean().optional()}),
            execute: async (input) => {
                inputs.push(input);
                return {temperature: 18, unit: input.unit};
            }
        });
        const result = await generateText({
            model: provider.chatModel("mixtral"), tools: {weather}, toolChoice: "required", temperature: 1, seed: 3, maxOutputTokens: 1000,
            prompt: "What is the weather in Paris?",
            // The second step answers with the tool's result in the history (tool choice "required" holds for it too).
            stopWhen: stepCountIs(2)
        });
        expect(result.steps).toHaveLength(2);
        expect(result.steps[0]!.finishReason).toBe("tool-calls");
        expect(result.steps[0]!.toolCalls[0]!.toolName).toBe("weather");
        expect(inputs.length).toBeGreaterThan(0);
        for (const input of inputs) expect(z.object({city: z.string().max(20), unit: z.enum(["celsius", "fahrenheit"])}).safeParse(input).success).toBe(true);
        expect(result.steps[1]!.request.body).toBeDefined();
    });
});
