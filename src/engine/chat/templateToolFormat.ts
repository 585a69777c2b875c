import {LlamaText, SpecialToken, SpecialTokensText, type ChatHistoryItem, type ChatModelFunctionCall, type ChatModelFunctions, type ChatModelResponse,
    type JinjaTemplateChatWrapper} from "node-llama-cpp";
import {isToolCallsMessage, type ConversationMessage} from "../../generator/chatMessages.js";
import type {ToolCallSyntax, ToolSpec} from "../../generator/templateTools.js";
import {answerPlaceholder, escapeMarkers} from "./answerMarkers.js";

/** A template's own tool format (node-llama-cpp reads it off the Jinja template). */
export type TemplateToolFormat = {
    syntax: ToolCallSyntax,
    /** The conversation, calls and results included, with `tools` offered (none: only the history's calls), up to where the next answer starts. */
    render(system: string | undefined, messages: readonly ConversationMessage[], tools: readonly ToolSpec[]): LlamaText
};

/**
 * The tool format of a Jinja template that has one, as node-llama-cpp extracted it (its
 * `settings.functions`): tools are handed to the template as `tools`, each earlier call is a
 * function call of a model response with its result, and the answer's call syntax is read off the
 * settings. Answers keep their placeholders (the exact generated tokens are spliced in).
 */
export function templateToolFormat(wrapper: JinjaTemplateChatWrapper): TemplateToolFormat {
    const {call, parallelism} = wrapper.settings.functions;
    const syntax: ToolCallSyntax = {
        sectionPrefix: plainText(parallelism?.call.sectionPrefix ?? ""),
        callPrefix: plainText(call.prefix),
        paramsPrefix: plainText(call.paramsPrefix),
        callSuffix: plainText(call.suffix),
        betweenCalls: plainText(parallelism?.call.betweenCalls ?? ""),
        sectionSuffix: plainText(parallelism?.call.sectionSuffix ?? ""),
        optionalPrefixSpace: call.optionalPrefixSpace === true
    };
    return {
        syntax,
        render(system, messages, tools) {
            const functions: ChatModelFunctions = Object.fromEntries(tools.map((tool) =>
                [tool.name, {...(tool.description == null ? {} : {description: tool.description}),
                    // Only rendered (the template's tojson), never turned into node-llama-cpp's grammar: any schema passes.
                    params: tool.parameters as ChatModelFunctions[string]["params"]}]));
            const history = historyOf(system, messages);
            return wrapper.generateContextState({chatHistory: history, ...(tools.length > 0 ? {availableFunctions: functions} : {})}).contextText;
        }
    };
}

/**
 * node-llama-cpp's chat history for a conversation with calls: an assistant turn that called tools
 * is a model response of function calls, the results that follow fill those calls in (by call id,
 * else by name, else in order), and an answer after the results continues that response. When the
 * conversation ends with results, the answer continues the last response; after a user turn, a new
 * empty response marks where it starts.
 */
function historyOf(system: string | undefined, messages: readonly ConversationMessage[]): ChatHistoryItem[] {
    const history: ChatHistoryItem[] = [];
    if (system != null && system !== "") history.push({type: "system", text: escapeMarkers(system)});
    let response: ChatModelResponse | undefined;
    let pending: {id: string, call: ChatModelFunctionCall}[] = [];
    messages.forEach((message, index) => {
        if (message.role === "user") {
            history.push({type: "user", text: escapeMarkers(message.content)});
            response = undefined;
            return;
        }
        if (message.role === "tool") {
            const at = Math.max(0, pending.findIndex(({id, call}) => id === message.toolCallId || call.name === message.name));
            const answered = pending.splice(at, 1)[0];
            if (answered != null) answered.call.result = escapeMarkers(message.content);
            return;
        }
        if (response == null) {
            response = {type: "model", response: []};
            history.push(response);
        }
        if (message.content !== "") response.response.push(answerPlaceholder(index));
        if (isToolCallsMessage(message)) {
            pending = message.toolCalls.map((call, callIndex) => ({id: call.id, call: {
                type: "functionCall", name: call.name, params: call.arguments, result: undefined, ...(callIndex === 0 ? {startsNewChunk: true} : {})
            }}));
            response.response.push(...pending.map(({call}) => call));
        }
    });
    if (messages.at(-1)?.role === "user") history.push({type: "model", response: []});
    return history;
}

/** A settings text as the model writes it: special tokens text by its text; EOS and the like (the end of the turn) left out. */
function plainText(text: unknown): string {
    return LlamaText(text as LlamaText).values.map((value) => typeof value === "string" ? value
        : value instanceof SpecialTokensText ? value.value : value instanceof SpecialToken ? "" : "").join("");
}
