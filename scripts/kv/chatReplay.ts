import {conversationText} from "../serve/conversationText.js";

/** The chat bench:kv replays: `turns` user messages of `userWords` filler words, answers of up to `answerTokens`. */
export type ReplayShape = {turns: number, userWords: number, answerTokens: number};

export type ReplayResult = {
    /** Wall time of all the turns, from the first request sent to the last answer received. */
    ms: number,
    /** Tokens generated over all turns (an answer may end before max_tokens). */
    generated: number,
    /** Tokens the conversation held after its last answer (the last prompt and its answer). */
    contextTokens: number
};

type ChatAnswer = {content: string, promptTokens: number, completionTokens: number};

/**
 * One conversation sent to an OpenAI-compatible server as a chat client sends it: each turn posts
 * the whole history, with the server's own earlier answers, to /chat/completions, so a server that
 * keeps the conversation's prompt cache (both ours and llama-server do) evaluates only the new
 * message. Greedy and with a fixed max_tokens, so the work is the same run to run. `seed` varies the
 * messages between rounds: no round finds the previous one's conversation still cached.
 */
export async function replayChat(baseUrl: string, seed: number, shape: ReplayShape): Promise<ReplayResult> {
    const messages: {role: "user" | "assistant", content: string}[] = [];
    let generated = 0;
    let contextTokens = 0;
    const started = performance.now();
    for (let turn = 0; turn < shape.turns; turn++) {
        messages.push({role: "user", content: conversationText(seed * 100 + turn, shape.userWords)});
        const answer = await chatCompletion(baseUrl, {messages, temperature: 0, max_tokens: shape.answerTokens});
        messages.push({role: "assistant", content: answer.content});
        generated += answer.completionTokens;
        contextTokens = answer.promptTokens + answer.completionTokens;
    }
    return {ms: performance.now() - started, generated, contextTokens};
}

async function chatCompletion(baseUrl: string, body: Record<string, unknown>): Promise<ChatAnswer> {
    const response = await fetch(`${baseUrl}/chat/completions`, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    if (!response.ok) throw new Error(`${baseUrl} answered ${response.status}: ${await response.text()}`);
    const answer = await response.json() as {choices: {message: {content: string | null}}[], usage: {prompt_tokens: number, completion_tokens: number}};
    return {content: answer.choices[0]?.message.content ?? "", promptTokens: answer.usage.prompt_tokens, completionTokens: answer.usage.completion_tokens};
}
