/** A conversation's messages, as chat, its saved files and every API dialect hold them. */

export type ChatRole = "user" | "assistant";
export type ChatMessage = {role: ChatRole, content: string};

/** The system text and the messages: what one chat request asks an answer to. */
export type ChatTranscript = {system?: string, messages: readonly ChatMessage[]};

/**
 * One call of a tool the model asked for. `arguments` is the parsed JSON value (an object when the
 * call is well formed): OpenAI sends and expects it as JSON text, Ollama and Anthropic as an object,
 * so each dialect writes it its own way. A client's history may hold arguments that are not JSON:
 * then it is the text as sent.
 */
export type ToolCall = {id: string, name: string, arguments: unknown};

/** An assistant turn that called tools (its text, often empty, and the calls in order). */
export type AssistantToolCallsMessage = {role: "assistant", content: string, toolCalls: readonly ToolCall[]};

/**
 * What a tool returned, sent back by the client: OpenAI's `role: "tool"`, Anthropic's `tool_result`
 * block, Ollama's `role: "tool"`. `name` is the tool's when the dialect says it (Ollama's tool_name);
 * otherwise the call with `toolCallId` earlier in the conversation names it.
 */
export type ToolResultMessage = {role: "tool", toolCallId?: string, name?: string, content: string};

/** A message of an API conversation: text turns, and the turns of a tool-using agent. */
export type ConversationMessage = ChatMessage | AssistantToolCallsMessage | ToolResultMessage;

/** A chat request of a server dialect: like ChatTranscript, with tool calls and results in the history. */
export type ToolTranscript = {system?: string, messages: readonly ConversationMessage[]};

export function isToolCallsMessage(message: ConversationMessage): message is AssistantToolCallsMessage {
    return message.role === "assistant" && "toolCalls" in message && message.toolCalls.length > 0;
}

/** A blank system text is none. */
export function emptyToUndefined(text: string | undefined): string | undefined {
    return text == null || text.trim() === "" ? undefined : text;
}

/**
 * An answer's text as it streams, without the whitespace it opens with: Mistral's format puts a
 * space after "[/INST]" that is the answer's first token ("▁Because"), and servers send it too.
 */
export function withoutOpeningWhitespace(onText: ((chunk: string) => void) | undefined): (chunk: string) => void {
    let opened = false;
    return (chunk) => {
        if (!opened) chunk = chunk.trimStart();
        if (chunk === "") return;
        opened = true;
        onText?.(chunk);
    };
}
