import type {ChatTranscript} from "../../../generator/chatMessages.js";
import type {SamplingOptions} from "../../../generator/sampling.js";
import {HttpError} from "../httpError.js";
import type {NeutralRequest, ToolChoice, ToolDefinition} from "../neutral.js";
import {toolAnswerGrammar} from "./toolAnswerGrammar.js";
import {ToolAnswerReader} from "./toolAnswerReader.js";
import {toolTranscript} from "./toolTranscript.js";

/** A chat request as the model gets it: plain turns, the sampling (with the answer's grammar), and the reader of a tool answer. */
export type ToolPlan = {conversation: ChatTranscript, sampling: SamplingOptions, reader?: ToolAnswerReader};

/**
 * How a chat request with tools is served by a template without tool support: the tools the
 * choice leaves (none for "none", the named one alone), described in the prompt, the answer held
 * to their JSON shapes by a grammar. Without tools to offer, the history (calls and results
 * included) is rendered as text and the answer is plain.
 */
export function planToolUse(request: Extract<NeutralRequest, {kind: "chat"}>): ToolPlan {
    const choice = request.toolChoice ?? "auto";
    const parallel = request.parallelToolCalls ?? true;
    const offered = offeredTools(request.tools ?? [], choice);
    const conversation = toolTranscript(request.conversation, offered, parallel);
    if (offered.length === 0) return {conversation, sampling: request.sampling};
    // The answer's grammar holds a whole answer (JSON calls or text), which a prefill would have begun.
    if (request.conversation.messages.at(-1)?.role === "assistant")
        throw new HttpError(400, "An assistant message last (a prefill the answer continues) cannot be combined with tools; send tool_choice \"none\" to use it.",
            {param: "messages", code: "unsupported_value"});
    if (request.sampling.grammar != null)
        throw new HttpError(400, "A response format (a JSON schema or grammar) cannot be combined with tools; send tool_choice \"none\" to use it.",
            {param: "tools", code: "unsupported_value"});
    const grammar = toolAnswerGrammar(offered, {required: choice !== "auto", parallel});
    return {conversation, sampling: {...request.sampling, grammar}, reader: new ToolAnswerReader()};
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
