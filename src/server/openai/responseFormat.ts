import type {GrammarSpec} from "../../generator/sampling.js";
import {UsageError} from "../../errors.js";
import {anyJsonObjectGrammar, jsonSchemaGrammar} from "../../grammar/jsonSchemaToGbnf.js";
import {invalidParam} from "../core/httpError.js";

/**
 * OpenAI's `response_format` as the grammar the sampler enforces: `{"type": "text"}` (none),
 * `{"type": "json_object"}` (any JSON object) or `{"type": "json_schema", "json_schema": {"schema": …}}`
 * (the CLI's --json-schema: same keywords, same refusals, here a 400 naming the keyword).
 */
export function parseResponseFormat(value: unknown, where: FormatPlace = chatFormatPlace): GrammarSpec | undefined {
    const {param, schemaField} = where;
    if (value == null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw invalidParam(param, `${param} must be an object.`);
    const {type} = value as {type?: unknown};
    const jsonSchema = schemaField == null ? value : (value as Record<string, unknown>)[schemaField];
    if (type === "text") return undefined;
    if (type === "json_object") return anyJsonObjectGrammar();
    if (type !== "json_schema")
        throw invalidParam(param, `${param}.type must be "text", "json_object" or "json_schema".`);
    if (jsonSchema == null || typeof jsonSchema !== "object" || Array.isArray(jsonSchema) || !("schema" in jsonSchema))
        throw invalidParam(param, `${param}${schemaField == null ? "" : `.${schemaField}`} must be an object with a "schema".`);
    try {
        return jsonSchemaGrammar((jsonSchema as {schema: unknown}).schema);
    } catch (error) {
        if (error instanceof UsageError)
            throw invalidParam(param, error.message.replace(/^--json-schema: /, `${param}${schemaField == null ? "" : `.${schemaField}`}.schema: `));
        throw error;
    }
}

/** Where a request holds its format: Chat Completions' `response_format` nests the schema in `json_schema`. */
export type FormatPlace = {param: string, schemaField?: string};
const chatFormatPlace: FormatPlace = {param: "response_format", schemaField: "json_schema"};
/** The Responses API's `text.format` puts the schema beside the type: `{type: "json_schema", name, schema, strict}`. */
export const responsesFormatPlace: FormatPlace = {param: "text.format"};
