import {UsageError} from "../errors.js";
import type {GrammarSpec} from "../generator/sampling.js";

/**
 * JSON Schema → llama.cpp GBNF, written here rather than taken from node-llama-cpp's
 * createGrammarForJsonSchema: on a random-weight model that grammar's "integer" produced
 * `75E87344725` (an exponent, Infinity once parsed) and it lets whitespace run on. Here:
 * - integers are plain digits (at most 15, so every one is a safe JavaScript integer);
 *   numbers add an optional fraction and never an exponent, so they are always finite;
 * - no whitespace except one optional space after ':' and ','; one JSON value, one line;
 * - every property listed in `properties` is produced, in order (optional ones too: always valid);
 * - a keyword the grammar cannot honour is a usage error that names it, never silently ignored.
 */

type Schema = Record<string, unknown>;

// Keywords that only describe; they never constrain the output.
const annotations = new Set(["$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"]);
const supported = new Set([
    ...annotations, "type", "enum", "const", "properties", "required", "additionalProperties", "minProperties", "maxProperties",
    "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "format", "anyOf", "oneOf", "$ref", "$defs", "definitions"
]);
const simpleTypes = ["object", "array", "string", "number", "integer", "boolean", "null"] as const;
type SimpleType = (typeof simpleTypes)[number];
const stringFormats: Record<string, string> = {
    "date": "date",
    "time": "time",
    "date-time": "date \"T\" time",
    "uuid": "hex{8} \"-\" hex{4} \"-\" hex{4} \"-\" hex{4} \"-\" hex{12}"
};
// llama.cpp expands {m,n} into n rules and refuses more than 2000 of them.
const maxRepetition = 1000;

// The JSON building blocks, each a GBNF rule used only when referenced.
const primitives: Record<string, string> = {
    "sp": "\" \"?",
    "char": "[^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" hex{4})",
    "hex": "[0-9a-fA-F]",
    "string": "\"\\\"\" char* \"\\\"\"",
    "integer": "\"-\"? (\"0\" | [1-9] [0-9]{0,14})",
    "number": "integer (\".\" [0-9]{1,15})?",
    "boolean": "\"true\" | \"false\"",
    "null": "\"null\"",
    "value": "object | array | string | number | boolean | null",
    "object": "\"{\" (member (\",\" sp member)*)? \"}\"",
    "member": "string \":\" sp value",
    "array": "\"[\" (value (\",\" sp value)*)? \"]\"",
    "date": "[0-9]{4} \"-\" (\"0\" [1-9] | \"1\" [0-2]) \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01])",
    "time": "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,3})? (\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])"
};
const primitiveUses: Record<string, string[]> = {
    char: ["hex"], string: ["char"], number: ["integer"], value: ["object", "array", "string", "number", "boolean", "null"],
    object: ["member", "sp"], member: ["string", "sp", "value"], array: ["value", "sp"]
};

/** Any JSON object: `--format json` and response_format json_object. */
export function anyJsonObjectGrammar(): GrammarSpec {
    const builder = new GrammarBuilder({});
    return {gbnf: builder.finish(builder.primitive("object")), closed: true, describes: "JSON"};
}

/** The grammar for a schema; throws a UsageError naming the first keyword it cannot honour. */
export function jsonSchemaGrammar(schema: unknown): GrammarSpec {
    if (!isSchemaObject(schema) && typeof schema !== "boolean") throw schemaError("the schema must be a JSON object", "");
    const root = typeof schema === "boolean" ? {} : schema;
    const builder = new GrammarBuilder(root);
    const rule = builder.ruleFor(schema, "");
    return {gbnf: builder.finish(rule), closed: builder.isClosed(schema), describes: "JSON"};
}

function isSchemaObject(value: unknown): value is Schema {
    return typeof value === "object" && value != null && !Array.isArray(value);
}

function schemaError(message: string, path: string): UsageError {
    return new UsageError(`--json-schema: ${message}${path === "" ? "" : ` (at ${path})`}.`);
}

/** A GBNF string literal for exact text. */
function literal(text: string): string {
    let out = "\"";
    for (const char of text) {
        const code = char.codePointAt(0)!;
        if (char === "\"" || char === "\\") out += `\\${char}`;
        else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
        else out += char;
    }
    return out + "\"";
}

class GrammarBuilder {
    private readonly rules = new Map<string, string>();
    private readonly byBody = new Map<string, string>();
    private readonly refs = new Map<string, string>();
    private readonly usedPrimitives = new Set<string>();

    constructor(private readonly root: Schema) {}

    finish(rootBody: string): string {
        const lines = [`root ::= ${rootBody}`];
        for (const [name, body] of this.rules) lines.push(`${name} ::= ${body}`);
        for (const name of Object.keys(primitives))
            if (this.usedPrimitives.has(name)) lines.push(`${name} ::= ${primitives[name]}`);
        return lines.join("\n") + "\n";
    }

    /** A building block's name, its rule (and those it uses) included in the grammar. */
    primitive(name: string): string {
        if (!this.usedPrimitives.has(name)) {
            this.usedPrimitives.add(name);
            for (const used of primitiveUses[name] ?? []) this.primitive(used);
        }
        return name;
    }

    /** A named rule for `body`, shared by every schema that produces the same body. */
    private named(hint: string, body: string): string {
        const existing = this.byBody.get(body);
        if (existing != null) return existing;
        const base = hint.replace(/[^a-zA-Z0-9]+/g, "-").replace(/^-+|-+$/g, "").toLowerCase() || "value";
        let name = `s-${base}`;
        for (let n = 2; this.rules.has(name) || name in primitives; n++) name = `s-${base}-${n}`;
        this.rules.set(name, body);
        this.byBody.set(body, name);
        return name;
    }

    /** The GBNF expression for a (sub)schema; `path` names it in errors (JSON Pointer). */
    ruleFor(schema: unknown, path: string, hint = "value"): string {
        if (schema === true) return this.primitive("value");
        if (schema === false) throw schemaError("`false` allows no value at all", path);
        if (!isSchemaObject(schema)) throw schemaError("expected a schema object", path);
        for (const keyword of Object.keys(schema))
            if (!supported.has(keyword)) throw schemaError(`the keyword "${keyword}" is not supported`, path);

        if (schema.$ref != null) return this.reference(schema.$ref, path);
        if ("const" in schema) return this.literalValue(schema.const, `${path}/const`);
        if (schema.enum != null) {
            if (!Array.isArray(schema.enum) || schema.enum.length === 0) throw schemaError("\"enum\" must be a non-empty array", `${path}/enum`);
            return this.group(schema.enum.map((value, index) => this.literalValue(value, `${path}/enum/${index}`)));
        }
        const alternatives = schema.anyOf ?? schema.oneOf;
        if (alternatives != null) {
            const keyword = schema.anyOf != null ? "anyOf" : "oneOf";
            if (schema.anyOf != null && schema.oneOf != null) throw schemaError("\"anyOf\" together with \"oneOf\" is not supported", path);
            if (!Array.isArray(alternatives) || alternatives.length === 0) throw schemaError(`"${keyword}" must be a non-empty array`, `${path}/${keyword}`);
            if (schema.type != null) throw schemaError(`"type" beside "${keyword}" is not supported; put it in each alternative`, path);
            return this.group(alternatives.map((alternative, index) => this.ruleFor(alternative, `${path}/${keyword}/${index}`, hint)));
        }
        const types = this.typesOf(schema, path);
        return this.group(types.map((type) => this.typed(type, schema, path, hint)));
    }

    private group(expressions: string[]): string {
        const unique = [...new Set(expressions)];
        return unique.length === 1 ? unique[0]! : `(${unique.join(" | ")})`;
    }

    private typesOf(schema: Schema, path: string): SimpleType[] {
        const type = schema.type;
        if (type == null) {
            // No type: infer it from the keywords that only make sense for one type.
            if (schema.properties != null || schema.additionalProperties != null || schema.required != null) return ["object"];
            if (schema.items != null || schema.prefixItems != null || schema.minItems != null || schema.maxItems != null) return ["array"];
            if (schema.minLength != null || schema.maxLength != null || schema.format != null) return ["string"];
            return ["object", "array", "string", "number", "boolean", "null"];
        }
        const list = Array.isArray(type) ? type : [type];
        if (list.length === 0) throw schemaError("\"type\" must not be empty", `${path}/type`);
        for (const entry of list)
            if (!simpleTypes.includes(entry as SimpleType)) throw schemaError(`unknown type ${JSON.stringify(entry)}`, `${path}/type`);
        return list as SimpleType[];
    }

    private typed(type: SimpleType, schema: Schema, path: string, hint: string): string {
        switch (type) {
            case "string": return this.stringRule(schema, path, hint);
            case "integer": return this.primitive("integer");
            case "number": return this.primitive("number");
            case "boolean": return this.primitive("boolean");
            case "null": return this.primitive("null");
            case "array": return this.arrayRule(schema, path, hint);
            case "object": return this.objectRule(schema, path, hint);
        }
    }

    private stringRule(schema: Schema, path: string, hint: string): string {
        if (schema.format != null) {
            const format = stringFormats[String(schema.format)];
            if (format == null || typeof schema.format !== "string")
                throw schemaError(`the string format ${JSON.stringify(schema.format)} is not supported (date, time, date-time, uuid are)`, `${path}/format`);
            if (schema.minLength != null || schema.maxLength != null) throw schemaError("\"minLength\"/\"maxLength\" beside \"format\" is not supported", path);
            for (const used of ["date", "time", "hex"]) if (format.includes(used)) this.primitive(used);
            return this.named(`${schema.format}-string`, `"\\"" ${format} "\\""`);
        }
        const min = this.count(schema, "minLength", path) ?? 0;
        const max = this.count(schema, "maxLength", path);
        if (min === 0 && max == null) return this.primitive("string");
        this.checkRange(min, max, "minLength", "maxLength", path);
        this.primitive("char");
        return this.named(`${hint}-string`, `"\\"" char{${min},${max ?? ""}} "\\""`);
    }

    private arrayRule(schema: Schema, path: string, hint: string): string {
        const prefix = schema.prefixItems ?? [];
        if (!Array.isArray(prefix)) throw schemaError("\"prefixItems\" must be an array", `${path}/prefixItems`);
        const min = this.count(schema, "minItems", path) ?? 0;
        const max = this.count(schema, "maxItems", path);
        this.checkRange(min, max, "minItems", "maxItems", path);
        if (max != null && max < prefix.length) throw schemaError("\"maxItems\" below the number of \"prefixItems\" is not supported", path);
        const parts = prefix.map((item, index) => this.ruleFor(item, `${path}/prefixItems/${index}`, `${hint}-item`));
        const items = schema.items === false ? undefined : this.ruleFor(schema.items ?? true, `${path}/items`, `${hint}-item`);
        const extraMin = Math.max(0, min - prefix.length);
        const extraMax = items == null ? 0 : max == null ? undefined : max - prefix.length;
        if (items == null && extraMin > 0) throw schemaError("\"minItems\" above the number of \"prefixItems\" with \"items\": false", path);
        this.primitive("sp");

        let body: string;
        if (parts.length > 0) {
            const tail = items == null || extraMax === 0 ? "" : ` ${repeated(`"," sp ${items}`, extraMin, extraMax)}`;
            body = `"[" ${parts.join(" \",\" sp ")}${tail} "]"`;
        } else if (items == null || extraMax === 0) body = "\"[\" \"]\"";
        else if (extraMin === 0) body = `"[" (${items} ${repeated(`"," sp ${items}`, 0, extraMax == null ? undefined : extraMax - 1)})? "]"`;
        else body = `"[" ${items} ${repeated(`"," sp ${items}`, extraMin - 1, extraMax == null ? undefined : extraMax - 1)} "]"`;
        return this.named(`${hint}-array`, body);
    }

    private objectRule(schema: Schema, path: string, hint: string): string {
        const properties = schema.properties ?? {};
        if (!isSchemaObject(properties)) throw schemaError("\"properties\" must be an object", `${path}/properties`);
        const required = schema.required ?? [];
        if (!Array.isArray(required) || required.some((name) => typeof name !== "string"))
            throw schemaError("\"required\" must be an array of names", `${path}/required`);
        // A required name without a schema may hold any value.
        const names = [...Object.keys(properties), ...(required as string[]).filter((name) => !(name in properties))];
        const minProperties = this.count(schema, "minProperties", path) ?? 0;
        const maxProperties = this.count(schema, "maxProperties", path);
        this.checkRange(minProperties, maxProperties, "minProperties", "maxProperties", path);
        this.primitive("sp");

        if (names.length > 0) {
            if (maxProperties != null && maxProperties < names.length)
                throw schemaError(`"maxProperties" below the ${names.length} listed properties is not supported`, path);
            if (minProperties > names.length && schema.additionalProperties === false)
                throw schemaError("\"minProperties\" above the listed properties with \"additionalProperties\": false", path);
            if (minProperties > names.length) throw schemaError("\"minProperties\" above the number of listed properties is not supported", path);
            const members = names.map((name) => {
                const value = this.ruleFor(properties[name] ?? true, `${path}/properties/${name}`, name);
                return `${literal(JSON.stringify(name))} ":" sp ${value}`;
            });
            return this.named(`${hint}-object`, `"{" ${members.join(" \",\" sp ")} "}"`);
        }
        // No listed properties: a map of any names to values of additionalProperties' schema.
        if (schema.additionalProperties === false) {
            if (minProperties > 0) throw schemaError("\"minProperties\" with no properties allowed", path);
            return this.named(`${hint}-empty-object`, "\"{\" \"}\"");
        }
        const value = this.ruleFor(schema.additionalProperties ?? true, `${path}/additionalProperties`, `${hint}-value`);
        if (value === "value" && minProperties === 0 && maxProperties == null) return this.primitive("object");
        const member = `${this.primitive("string")} ":" sp ${value}`;
        const body = minProperties === 0
            ? `"{" (${member} ${repeated(`"," sp ${member}`, 0, maxProperties == null ? undefined : maxProperties - 1)})? "}"`
            : `"{" ${member} ${repeated(`"," sp ${member}`, minProperties - 1, maxProperties == null ? undefined : maxProperties - 1)} "}"`;
        return this.named(`${hint}-map`, maxProperties === 0 ? "\"{\" \"}\"" : body);
    }

    private reference(ref: unknown, path: string): string {
        if (typeof ref !== "string") throw schemaError("\"$ref\" must be a string", `${path}/$ref`);
        const existing = this.refs.get(ref);
        if (existing != null) return existing;
        let target: unknown;
        let name: string;
        if (ref === "#") {
            target = this.root;
            name = "s-root";
        } else {
            const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
            const defs = match == null ? undefined : this.root[match[1]!];
            if (match == null || !isSchemaObject(defs) || !(match[2]! in defs))
                throw schemaError(`"$ref" ${JSON.stringify(ref)} does not point into this schema's $defs or definitions`, `${path}/$ref`);
            target = defs[match[2]!];
            name = `s-def-${match[2]!.replace(/[^a-zA-Z0-9]+/g, "-")}`;
        }
        while (this.rules.has(name) || name in primitives) name += "-x";
        // Named before it is built, so a recursive schema refers to itself.
        this.refs.set(ref, name);
        this.rules.set(name, "");
        this.rules.set(name, this.ruleFor(target, ref.slice(1), name));
        return name;
    }

    private literalValue(value: unknown, path: string): string {
        if (typeof value === "number" && !Number.isFinite(value)) throw schemaError("a non-finite number cannot be produced", path);
        return literal(JSON.stringify(value));
    }

    private count(schema: Schema, keyword: string, path: string): number | undefined {
        const value = schema[keyword];
        if (value == null) return undefined;
        if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
            throw schemaError(`"${keyword}" must be a whole number ≥ 0`, `${path}/${keyword}`);
        if (value > maxRepetition) throw schemaError(`"${keyword}" above ${maxRepetition} is not supported (llama.cpp's grammar limit)`, `${path}/${keyword}`);
        return value;
    }

    private checkRange(min: number, max: number | undefined, minName: string, maxName: string, path: string) {
        if (max != null && max < min) throw schemaError(`"${maxName}" is below "${minName}"`, path);
    }

    /**
     * Whether the output ends as soon as the grammar is complete: then nothing could follow, and
     * generation stops without asking the model for an end token. A number can always take one
     * more digit, so any branch that may be a number leaves it to the model.
     */
    isClosed(schema: unknown, seen = new Set<unknown>()): boolean {
        if (!isSchemaObject(schema)) return false;
        if (seen.has(schema)) return true;
        seen.add(schema);
        if (typeof schema.$ref === "string") {
            const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(schema.$ref);
            const defs = match == null ? undefined : this.root[match[1]!];
            return schema.$ref === "#" ? this.isClosed(this.root, seen) : isSchemaObject(defs) && this.isClosed(defs[match![2]!], seen);
        }
        if ("const" in schema) return typeof schema.const !== "number";
        if (Array.isArray(schema.enum)) return schema.enum.every((value) => typeof value !== "number");
        const alternatives = schema.anyOf ?? schema.oneOf;
        if (Array.isArray(alternatives)) return alternatives.every((alternative) => this.isClosed(alternative, seen));
        return this.typesOf(schema, "").every((type) => type !== "number" && type !== "integer");
    }
}

/** `item` repeated min to max times (max undefined: no limit), in llama.cpp's {m,n} syntax. */
function repeated(item: string, min: number, max: number | undefined): string {
    if (max === 0) return "";
    if (min === 0 && max == null) return `(${item})*`;
    return `(${item}){${min},${max ?? ""}}`;
}
