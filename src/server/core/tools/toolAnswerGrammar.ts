import {UsageError} from "../../../errors.js";
import type {GrammarSpec} from "../../../generator/sampling.js";
import {jsonSchemaGrammar} from "../../../grammar/jsonSchemaToGbnf.js";
import {HttpError} from "../httpError.js";
import type {ToolDefinition} from "../neutral.js";

/**
 * The shape of an answer when tools are offered to a model that has no tool tokens of its own
 * (Mixtral 8x7B Instruct), as llama-server's "generic" chat format had it: one JSON object, either
 * `{"response": "…"}` (a text answer) or `{"tool_call": {"name", "arguments"}}`, or with parallel
 * calls `{"tool_calls": [{"name", "arguments"}, …]}`. The grammar makes every call name a tool that
 * was offered and give arguments its `parameters` schema accepts; "required" (or a named function)
 * leaves out the text answer.
 */
/**
 * Most calls one answer may hold: a weak model, once in a list of calls, can go on adding calls
 * until max_tokens cuts the answer (the tiny test model wrote 9 before 600 tokens ran out); a
 * bound ends the list and the answer. Agents rarely ask for more than a few calls at once.
 */
export const maxParallelCalls = 8;

export function toolAnswerGrammar(tools: readonly ToolDefinition[], {required, parallel}: {required: boolean, parallel: boolean}): GrammarSpec {
    const {call, defs} = callSchema(tools);
    const toolAnswer = parallel
        ? {type: "object", properties: {tool_calls: {type: "array", items: call, minItems: 1, maxItems: maxParallelCalls}}, required: ["tool_calls"]}
        : {type: "object", properties: {tool_call: call}, required: ["tool_call"]};
    const textAnswer = {type: "object", properties: {response: {type: "string"}}, required: ["response"]};
    const schema = required ? {...toolAnswer, $defs: defs} : {anyOf: [toolAnswer, textAnswer], $defs: defs};
    return jsonSchemaGrammar(schema);
}

/**
 * The JSON Schema of one call of any of `tools` (`{"name": <an offered name>, "arguments": <its
 * parameters>}`) and the `$defs` it refers to: each tool's own $defs (and "#" for recursion) move
 * under the answer's $defs, so its $refs still resolve.
 */
export function callSchema(tools: readonly ToolDefinition[]): {call: Record<string, unknown>, defs: Record<string, unknown>} {
    const defs: Record<string, unknown> = {};
    const calls = tools.map((tool, index) => {
        checkParameters(tool);
        const prefix = `tool${index}-`;
        const {$defs, definitions, ...parameters} = rewriteRefs(tool.parameters, prefix) as Record<string, unknown>;
        for (const [name, schema] of Object.entries({...asRecord(definitions), ...asRecord($defs)})) defs[prefix + name] = schema;
        defs[`${prefix}root`] = parameters;
        return {
            type: "object",
            properties: {name: {const: tool.name}, arguments: {$ref: `#/$defs/${prefix}root`}},
            required: ["name", "arguments"]
        };
    });
    return {call: calls.length === 1 ? calls[0]! : {anyOf: calls}, defs};
}

/** A schema the grammar cannot honour is refused before anything runs, naming the tool and the keyword. */
function checkParameters(tool: ToolDefinition) {
    try {
        jsonSchemaGrammar(tool.parameters);
    } catch (error) {
        if (error instanceof UsageError)
            throw new HttpError(400, `The parameters of the tool "${tool.name}": ${error.message.replace(/^--json-schema: /, "")}`,
                {param: "tools", code: "invalid_value"});
        throw error;
    }
}

function rewriteRefs(schema: unknown, prefix: string): unknown {
    if (Array.isArray(schema)) return schema.map((item) => rewriteRefs(item, prefix));
    if (schema == null || typeof schema !== "object") return schema;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(schema)) {
        if (key === "$ref" && typeof value === "string") {
            const match = /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(value);
            out.$ref = value === "#" ? `#/$defs/${prefix}root` : match == null ? value : `#/$defs/${prefix}${match[1]}`;
        } else out[key] = rewriteRefs(value, prefix);
    }
    return out;
}

function asRecord(value: unknown): Record<string, unknown> {
    return value != null && typeof value === "object" && !Array.isArray(value) ? value as Record<string, unknown> : {};
}
