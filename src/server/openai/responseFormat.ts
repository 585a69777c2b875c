import type {GrammarSpec} from "../../generator/sampling.js";
import {UsageError} from "../../errors.js";
import {anyJsonObjectGrammar, jsonSchemaGrammar} from "../../grammar/jsonSchemaToGbnf.js";
import {invalidParam} from "../core/httpError.js";

/**
 * OpenAI's `response_format` as the grammar the sampler enforces: `{"type": "text"}` (none),
 * `{"type": "json_object"}` (any JSON object) or `{"type": "json_schema", "json_schema": {"schema": …}}`
 * (the CLI's --json-schema: same keywords, same refusals, here a 400 naming the keyword).
 */
export function parseResponseFormat(value: unknown): GrammarSpec | undefined {
    if (value == null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw invalidParam("response_format", "response_format must be an object.");
    const {type, json_schema: jsonSchema} = value as {type?: unknown, json_schema?: unknown};
    if (type === "text") return undefined;
    if (type === "json_object") return anyJsonObjectGrammar();
    if (type !== "json_schema")
        throw invalidParam("response_format", "response_format.type must be \"text\", \"json_object\" or \"json_schema\".");
    if (jsonSchema == null || typeof jsonSchema !== "object" || Array.isArray(jsonSchema) || !("schema" in jsonSchema))
        throw invalidParam("response_format", "response_format.json_schema must be an object with a \"schema\".");
    try {
        return jsonSchemaGrammar((jsonSchema as {schema: unknown}).schema);
    } catch (error) {
        if (error instanceof UsageError)
            throw invalidParam("response_format", error.message.replace(/^--json-schema: /, "response_format.json_schema.schema: "));
        throw error;
    }
}
