import type {ToolCall} from "../../generator/chatMessages.js";
import {invalidParam} from "../core/httpError.js";
import type {ToolChoice, ToolDefinition} from "../core/neutral.js";

type Body = Record<string, unknown>;

/**
 * `tools`: function tools, as Chat Completions nests them (`{type: "function", function: {name,
 * description, parameters}}`) or as the Responses API writes them flat (`{type: "function", name, …}`).
 * No parameters is a function without arguments. `strict` is accepted: the grammar always holds
 * the arguments to their schema.
 */
export function parseTools(value: unknown, param = "tools"): ToolDefinition[] | undefined {
    if (value == null) return undefined;
    if (!Array.isArray(value)) throw invalidParam(param, `${param} must be a list of tools.`);
    const names = new Set<string>();
    return value.map((item: unknown, index) => {
        const itemParam = `${param}[${index}]`;
        if (!isObject(item) || item.type !== "function")
            throw invalidParam(itemParam, `${itemParam} must be a function tool ({"type": "function", …}); no other tool type is supported.`);
        const nested = isObject(item.function);
        const fields = nested ? item.function as Body : item;
        const fieldParam = nested ? `${itemParam}.function` : itemParam;
        const {name, description, parameters} = fields;
        if (typeof name !== "string" || !/^[a-zA-Z0-9_.-]{1,64}$/.test(name))
            throw invalidParam(`${fieldParam}.name`, `${fieldParam}.name must be 1 to 64 letters, digits, underscores, dots or dashes.`);
        if (names.has(name)) throw invalidParam(`${fieldParam}.name`, `Two tools are named "${name}".`);
        names.add(name);
        if (description != null && typeof description !== "string") throw invalidParam(`${fieldParam}.description`, `${fieldParam}.description must be a string.`);
        if (parameters != null && !isObject(parameters)) throw invalidParam(`${fieldParam}.parameters`, `${fieldParam}.parameters must be a JSON Schema object.`);
        return {name, ...(description == null ? {} : {description}),
            parameters: (parameters ?? {type: "object", properties: {}}) as Record<string, unknown>};
    });
}

/** `tool_choice`: "auto", "none", "required", or one function (`{type: "function", function: {name}}`, or `{type: "function", name}` in Responses). */
export function parseToolChoice(value: unknown, param = "tool_choice"): ToolChoice | undefined {
    if (value == null) return undefined;
    if (value === "auto" || value === "none" || value === "required") return value;
    if (isObject(value) && value.type === "function") {
        const name = isObject(value.function) ? value.function.name : value.name;
        if (typeof name === "string") return {name};
    }
    throw invalidParam(param, `${param} must be "auto", "none", "required" or {"type": "function", "function": {"name": …}}.`);
}

/** An assistant message's `tool_calls` (`[{id, type: "function", function: {name, arguments}}]`, arguments as JSON text). */
export function parseAssistantToolCalls(value: readonly unknown[], param: string): ToolCall[] {
    return value.map((item, index) => {
        const itemParam = `${param}[${index}]`;
        const fn = isObject(item) ? item.function : undefined;
        if (!isObject(item) || !isObject(fn) || typeof fn.name !== "string")
            throw invalidParam(itemParam, `${itemParam} must be {"id", "type": "function", "function": {"name", "arguments"}}.`);
        const id = typeof item.id === "string" ? item.id : `call_${index}`;
        return {id, name: fn.name, arguments: parseArguments(fn.arguments)};
    });
}

/** Arguments are JSON text; a client's history may hold text that is not JSON, which is kept as it was sent. */
function parseArguments(value: unknown): unknown {
    if (typeof value !== "string") return value ?? {};
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

/** Arguments as OpenAI sends them: JSON text (text that was not JSON stays itself). */
export function argumentsText(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function isObject(value: unknown): value is Body {
    return value != null && typeof value === "object" && !Array.isArray(value);
}
