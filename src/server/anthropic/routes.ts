import type {Route} from "../core/routeTable.js";
import type {ServerCore} from "../core/serverCore.js";
import {sendAnthropicError} from "./errorShape.js";
import {answerMessages, countTokens} from "./messages.js";

/** The path prefix of Anthropic's Messages API: unknown paths under it are answered in Anthropic's error shape. */
export const anthropicPrefix = "/v1/messages";

/** Anthropic's Messages API (`@anthropic-ai/sdk`, Claude Code and the tools built on it): its rows, its errors in Anthropic's shape. */
export function anthropicRoutes(core: ServerCore): Route[] {
    const errors = sendAnthropicError;
    return [
        {method: "POST", path: "/v1/messages", errors, handler: (context) => answerMessages(core, context)},
        {method: "POST", path: "/v1/messages/count_tokens", errors, handler: (context) => countTokens(core, context)}
    ];
}
