import {invalidParam} from "../core/httpError.js";
import type {ToolChoice} from "../core/neutral.js";

/** `tool_choice`: "auto", "none", "required", or one function (`{type: "function", function: {name}}`, or `{type: "function", name}` in Responses). */
export function parseToolChoice(value: unknown, param = "tool_choice"): ToolChoice | undefined {
    if (value == null) return undefined;
    if (value === "auto" || value === "none" || value === "required") return value;
    if (value != null && typeof value === "object" && !Array.isArray(value)) {
        const {type, function: fn, name} = value as Record<string, unknown>;
        const named = fn != null && typeof fn === "object" ? (fn as Record<string, unknown>).name : name;
        if (type === "function" && typeof named === "string") return {name: named};
    }
    throw invalidParam(param, `${param} must be "auto", "none", "required" or {"type": "function", "function": {"name": …}}.`);
}

/** Arguments as OpenAI sends them: JSON text (text that was not JSON stays itself). */
export function argumentsText(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}
