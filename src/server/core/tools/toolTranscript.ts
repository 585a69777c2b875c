import {isToolCallsMessage, type ChatMessage, type ChatTranscript, type ConversationMessage, type ToolCall, type ToolTranscript} from "../../../generator/chatMessages.js";
import type {ToolDefinition} from "../neutral.js";

/**
 * A conversation with tools as plain chat for a template without tool support (Mixtral 8x7B
 * Instruct's): the tools and the answer's JSON shape are described in the system text, calls the
 * assistant made are its JSON answers, and tool results are user turns holding
 * `{"tool_response": {"tool", "content"}}` — the prompt llama-server's generic format wrote (with
 * minja's polyfills for templates that know no tools). `tools` empty: no description (tool_choice
 * "none"), the history is still rendered.
 */
export function toolTranscript(conversation: ToolTranscript, tools: readonly ToolDefinition[], parallel: boolean): ChatTranscript {
    const system = [conversation.system, tools.length === 0 ? undefined : toolsDescription(tools, parallel)]
        .filter((text): text is string => text != null && text.trim() !== "").join("\n\n");
    const names = new Map<string, string>();
    const messages: ChatMessage[] = [];
    for (const message of conversation.messages) {
        const turn = plainTurn(message, names, parallel);
        const last = messages.at(-1);
        // The template alternates user and assistant: a tool result after another is one user turn.
        if (last?.role === turn.role) last.content += `\n\n${turn.content}`;
        else messages.push(turn);
    }
    return {system: system === "" ? undefined : system, messages};
}

/** The system text that offers the tools (llama-server's generic instruction, with the tools listed as OpenAI sends them). */
function toolsDescription(tools: readonly ToolDefinition[], parallel: boolean): string {
    const listed = tools.map(({name, description, parameters}) => ({type: "function", function: {name, description, parameters}}));
    const call = parallel ? "`tool_calls` (a list of calls of tools)" : "`tool_call` (a request to call a tool)";
    // One line of JSON: on a CPU every token of the prompt counts, and the model reads it as well as indented JSON.
    return `You can call any of the following tools to satisfy the user's requests: ${JSON.stringify(listed)}\n\n`
        + `Respond in JSON format, either with ${call} or with \`response\` reply to the user's request.`;
}

function plainTurn(message: ConversationMessage, names: Map<string, string>, parallel: boolean): ChatMessage {
    if (message.role === "tool") {
        const tool = message.name ?? (message.toolCallId == null ? undefined : names.get(message.toolCallId));
        return {role: "user", content: JSON.stringify({tool_response: {...(tool == null ? {} : {tool}), content: message.content}})};
    }
    if (isToolCallsMessage(message)) {
        for (const call of message.toolCalls) names.set(call.id, call.name);
        return {role: "assistant", content: callsAsAnswer(message.toolCalls, parallel)};
    }
    return {role: message.role, content: message.content};
}

/** Calls as the model would have answered them under the grammar (toolAnswerGrammar.ts). */
function callsAsAnswer(calls: readonly ToolCall[], parallel: boolean): string {
    const plain = calls.map(({name, arguments: args}) => ({name, arguments: args}));
    return JSON.stringify(parallel || plain.length > 1 ? {tool_calls: plain} : {tool_call: plain[0]});
}
