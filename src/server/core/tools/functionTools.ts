import type {ToolCall} from "../../../generator/chatMessages.js";
import {invalidParam} from "../httpError.js";
import type {ToolDefinition} from "../neutral.js";

type Body = Record<string, unknown>;

/**
 * `tools`: function tools as OpenAI's Chat Completions and Ollama nest them (`{type: "function",
 * function: {name, description, parameters}}`), or as the Responses API writes them flat
 * (`{type: "function", name, …}`). No parameters is a function without arguments. `strict` is
 * accepted: the grammar always holds the arguments to their schema.
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
        const {name, description, parameters} = (nested ? item.function : item) as Body;
        return toolDefinition({name, description, parameters}, nested ? `${itemParam}.function` : itemParam, names);
    });
}

/**
 * One tool's fields checked, whichever dialect named them (`parameters` is Anthropic's
 * `input_schema`): a name of 1 to `maxNameLength` letters, digits, `_`, `.` or `-` not used by an
 * earlier tool (`names` holds those), an optional description, a JSON Schema object or none.
 */
export function toolDefinition(
    {name, description, parameters}: {name: unknown, description: unknown, parameters: unknown}, param: string, names: Set<string>,
    {schemaField = "parameters", maxNameLength = 64} = {}
): ToolDefinition {
    if (typeof name !== "string" || !new RegExp(`^[a-zA-Z0-9_.-]{1,${maxNameLength}}$`).test(name))
        throw invalidParam(`${param}.name`, `${param}.name must be 1 to ${maxNameLength} letters, digits, underscores, dots or dashes.`);
    if (names.has(name)) throw invalidParam(`${param}.name`, `Two tools are named "${name}".`);
    names.add(name);
    if (description != null && typeof description !== "string") throw invalidParam(`${param}.description`, `${param}.description must be a string.`);
    if (parameters != null && !isObject(parameters)) throw invalidParam(`${param}.${schemaField}`, `${param}.${schemaField} must be a JSON Schema object.`);
    return {name, ...(description == null ? {} : {description}),
        parameters: (parameters ?? {type: "object", properties: {}}) as Record<string, unknown>};
}

/**
 * An assistant message's `tool_calls` as OpenAI (`[{id, type: "function", function: {name,
 * arguments}}]`, arguments as JSON text) and Ollama (`[{function: {name, arguments}}]`, arguments
 * an object, no id) send them. A call without an id gets `call_<index>`.
 */
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

/** Arguments are JSON text (or, from Ollama, the object); a client's history may hold text that is not JSON, which is kept as it was sent. */
function parseArguments(value: unknown): unknown {
    if (typeof value !== "string") return value ?? {};
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

function isObject(value: unknown): value is Body {
    return value != null && typeof value === "object" && !Array.isArray(value);
}
