import type {GrammarSpec} from "../../generator/sampling.js";
import {UsageError} from "../../errors.js";
import {anyJsonObjectGrammar, jsonSchemaGrammar} from "../../grammar/jsonSchemaToGbnf.js";
import {invalidParam} from "../core/httpError.js";

/**
 * Ollama's `format` as the grammar the sampler enforces: `"json"` (any JSON object, as Ollama's
 * JSON mode) or a JSON schema (the keywords and refusals of --json-schema, here a 400 naming the
 * keyword); absent or `""`: none.
 */
export function parseFormat(value: unknown): GrammarSpec | undefined {
    if (value == null || value === "") return undefined;
    if (value === "json") return anyJsonObjectGrammar();
    if (typeof value !== "object" || Array.isArray(value))
        throw invalidParam("format", "format must be \"json\" or a JSON schema object.");
    try {
        return jsonSchemaGrammar(value);
    } catch (error) {
        if (error instanceof UsageError) throw invalidParam("format", error.message.replace(/^--json-schema: /, "format: "));
        throw error;
    }
}
