import type {ToolTranscript} from "../../../generator/chatMessages.js";
import type {SamplingOptions} from "../../../generator/sampling.js";
import type {ToolCallSyntax} from "../../../generator/templateTools.js";
import {HttpError} from "../httpError.js";
import type {ChatPrompt, NeutralRequest, ToolChoice, ToolDefinition} from "../neutral.js";
import {callListOpening, TemplateCallReader, templateCallGrammar} from "./templateToolCalls.js";
import {toolAnswerGrammar} from "./toolAnswerGrammar.js";
import {ToolAnswerReader, type ToolReader} from "./toolAnswerReader.js";
import {toolTranscript} from "./toolTranscript.js";

type ChatRequest = Extract<NeutralRequest, {kind: "chat"}>;

/**
 * A chat request as the model gets it: the conversation (plain turns, or with calls and results
 * when the template renders them), the tools the template is to offer (template path only), the
 * sampling (with the answer's grammar), and the reader of a tool answer.
 */
export type ToolPlan = {conversation: ToolTranscript, tools?: readonly ToolDefinition[], sampling: SamplingOptions, reader?: ToolReader};

/**
 * How a chat request with tools is served. The tools the choice leaves (none for "none", the named
 * one alone) are offered, and the answer is held to calls of them by a grammar. A template with
 * tool support of its own (`syntax`, in a form the grammar can follow) gets the tools and the
 * history as they are and renders them in its own format; the answer is its call syntax or text.
 * Otherwise (Mixtral 8x7B Instruct) the tools are described in the prompt and the answer is one
 * JSON object (a text answer or calls); the history's calls and results become text.
 */
export function planToolUse(request: ChatRequest, syntax?: ToolCallSyntax): ToolPlan {
    const {choice, parallel, offered, conversation, tools, opening} = toolPrompt(request, syntax);
    if (offered.length === 0) return {conversation, tools, sampling: request.sampling};
    // The answer's grammar holds a whole answer (calls or text), which a prefill would have begun.
    if (request.conversation.messages.at(-1)?.role === "assistant")
        throw new HttpError(400, "An assistant message last (a prefill the answer continues) cannot be combined with tools; send tool_choice \"none\" to use it.",
            {param: "messages", code: "unsupported_value"});
    if (request.sampling.grammar != null)
        throw new HttpError(400, "A response format (a JSON schema or grammar) cannot be combined with tools; leave the tools out (or send tool_choice \"none\") to use it.",
            {param: "tools", code: "unsupported_value"});
    const shape = {required: choice !== "auto", parallel};
    if (opening != null)
        return {conversation, tools, sampling: {...request.sampling, grammar: templateCallGrammar(offered, opening, shape)}, reader: new TemplateCallReader(opening)};
    return {conversation, sampling: {...request.sampling, grammar: toolAnswerGrammar(offered, shape)}, reader: new ToolAnswerReader()};
}

/**
 * The prompt of a chat request: the tools the choice offers and the conversation as the model
 * reads it — given as is with the tools to a template with its own tool format (`opening` set),
 * else with the tools described and calls and results as text.
 */
export function toolPrompt(request: ChatPrompt, syntax?: ToolCallSyntax) {
    const choice = request.toolChoice ?? "auto";
    const parallel = request.parallelToolCalls ?? true;
    const offered = offeredTools(request.tools ?? [], choice);
    const opening = syntax == null ? undefined : callListOpening(syntax);
    if (opening != null) return {choice, parallel, offered, opening, conversation: request.conversation, tools: offered};
    return {choice, parallel, offered, opening, conversation: toolTranscript(request.conversation, offered, parallel) as ToolTranscript, tools: undefined};
}

function offeredTools(tools: readonly ToolDefinition[], choice: ToolChoice): readonly ToolDefinition[] {
    if (choice === "none") return [];
    if (choice === "required" && tools.length === 0)
        throw new HttpError(400, "tool_choice \"required\" needs at least one tool.", {param: "tool_choice", code: "invalid_value"});
    if (typeof choice === "object") {
        const named = tools.filter((tool) => tool.name === choice.name);
        if (named.length === 0)
            throw new HttpError(400, `tool_choice names the function "${choice.name}", which is not among the tools.`, {param: "tool_choice", code: "invalid_value"});
        return named;
    }
    return tools;
}
