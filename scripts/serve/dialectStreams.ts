import {streamCompletion, timedStream, type StreamTiming} from "./streamCompletion.js";

/** The three dialects of `mixtral serve` a chat stream can go through; bench:serve compares each with OpenAI's. */
export const dialects = ["openai", "ollama", "anthropic"] as const;
export type Dialect = typeof dialects[number];

/**
 * One streamed chat of `prompt` through a dialect's own route and framing, greedy, at most
 * `maxTokens` tokens: OpenAI's /v1/chat/completions (SSE chunks), Ollama's /api/chat (NDJSON; the
 * last line's eval_count), Anthropic's /v1/messages (SSE events; message_delta's output_tokens).
 */
export function streamDialectChat(origin: string, dialect: Dialect, prompt: string, maxTokens: number): Promise<StreamTiming> {
    const messages = [{role: "user", content: prompt}];
    if (dialect === "openai") return streamCompletion(`${origin}/v1`, "chat/completions", {messages, temperature: 0, max_tokens: maxTokens});
    if (dialect === "ollama") {
        return timedStream(`${origin}/api/chat`, {model: "bench", messages, stream: true, options: {temperature: 0, num_predict: maxTokens}}, "\n", (frame) => {
            const line = JSON.parse(frame) as {message?: {content?: string}, done?: boolean, eval_count?: number};
            return {piece: line.message?.content, tokens: line.done === true ? line.eval_count : undefined};
        });
    }
    return timedStream(`${origin}/v1/messages`, {model: "bench", messages, stream: true, temperature: 0, max_tokens: maxTokens}, "\n\n", (frame) => {
        const data = frame.split("\n").find((line) => line.startsWith("data: "));
        if (data == null) return {};
        const event = JSON.parse(data.slice(6)) as {type: string, delta?: {type?: string, text?: string}, usage?: {output_tokens?: number}};
        if (event.type === "content_block_delta" && event.delta?.type === "text_delta") return {piece: event.delta.text};
        return {tokens: event.type === "message_delta" ? event.usage?.output_tokens : undefined};
    });
}
