import type {GrammarSpec} from "../generator/sampling.js";
import {isSchemaObject, SchemaConverter} from "./schemaConverter.js";
import {endlessRules} from "./endlessRules.js";
import {parseGbnf} from "./parseGbnf.js";
import {schemaError} from "./schemaError.js";

/**
 * JSON Schema → llama.cpp GBNF: llama.cpp's own json-schema-to-grammar (src/grammar/schemaConverter.ts),
 * so `--json-schema`, `response_format` and tool parameters get the grammar llama-server would use,
 * with these differences (test/unit/jsonSchemaLlamaCpp.test.ts holds each to llama.cpp's test cases):
 * - a keyword the grammar cannot honour is a usage error that names it, never silently ignored
 *   (llama.cpp ignores unknown keywords and accepts any string for a pattern it cannot convert);
 * - whitespace is at most one space between tokens (llama.cpp: up to two newlines and 20 blanks), so an
 *   answer is one line and a weak model cannot fill max_tokens with whitespace;
 * - a number's exponent has at most two digits, so every number is finite (llama.cpp: `1e400`);
 * - what llama.cpp's grammars let through that is not JSON is not: a pattern's `"`, `\`, `.` and
 *   `[^…]`, other keys beside the listed ones, the digits after a negative maximum's minus sign.
 */

/** Any JSON object: `--format json` and response_format json_object. */
export function anyJsonObjectGrammar(): GrammarSpec {
    return jsonSchemaGrammar({type: "object"});
}

/** The grammar for a schema; throws a UsageError naming the first keyword it cannot honour. */
export function jsonSchemaGrammar(schema: unknown): GrammarSpec {
    if (!isSchemaObject(schema) && typeof schema !== "boolean") throw schemaError("the schema must be a JSON object", "");
    const converter = new SchemaConverter(schema);
    converter.visit(schema, "", "");
    const gbnf = converter.formatGrammar();
    // Only a "$ref" can make a rule need itself (repetitions always may stop).
    if (converter.hasRefs) checkCyclesEnd(gbnf, converter);
    return {gbnf, closed: converter.isClosed(schema), describes: "JSON"};
}

/**
 * A `$ref` cycle that every value must follow again (`"required"` at every level, or a definition
 * that is only itself) allows no finite value: refused in its own words, naming where it points,
 * rather than as llama.cpp's "left-recursive" or as an answer that could never be complete.
 */
function checkCyclesEnd(gbnf: string, converter: SchemaConverter): void {
    let endless: string[];
    try {
        endless = endlessRules(parseGbnf(gbnf));
    } catch (error) {
        const rule = /rule '([^']+)' is left-recursive/.exec(error instanceof Error ? error.message : "")?.[1];
        if (rule == null) throw error;
        endless = [rule];
    }
    if (endless.length === 0) return;
    const ref = endless.map((rule) => converter.refOfRule(rule)).find((found) => found != null);
    throw schemaError("the schema's \"$ref\" cycle never ends: every value would have to hold another without end (make the reference optional, or give it an alternative that ends)",
        ref == null ? "" : ref.slice(1));
}
