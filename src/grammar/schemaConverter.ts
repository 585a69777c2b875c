import {buildRepetition, formatLiteral, plainChar, primitiveRules, reservedNames, spaceRule, stringFormatRules, type BuiltinRule} from "./gbnfRules.js";
import {integerRangeRule} from "./integerRange.js";
import {patternToRule} from "./patternToGbnf.js";
import {schemaError} from "./schemaError.js";

/**
 * llama.cpp's common_schema_converter (common/json-schema-to-grammar.cpp) ported: the same branches in
 * the same order, the same rule names, so a schema gives the grammar llama.cpp's converter writes
 * (test/unit/jsonSchemaLlamaCpp.test.ts compares them on llama.cpp's own test cases). Where llama.cpp
 * silently ignores a keyword, or warns and accepts any string, this refuses it: each branch names the
 * keywords it honours, and one it did not is a usage error naming it (`checkHonoured`).
 */

type Schema = Record<string, unknown>;

// Keywords that only describe, or hold definitions: never a constraint.
const annotations = new Set(["$schema", "$id", "$anchor", "$comment", "title", "description", "default", "examples", "deprecated",
    "readOnly", "writeOnly", "$defs", "definitions"]);
// What each keyword constrains, for the refusal of one a branch cannot honour.
const keywordApplies: Record<string, string> = {
    minimum: "integers", maximum: "integers", exclusiveMinimum: "integers", exclusiveMaximum: "integers",
    minLength: "strings with \"type\": \"string\" and no \"format\" or \"pattern\"", maxLength: "strings with \"type\": \"string\" and no \"format\" or \"pattern\"",
    pattern: "strings", format: "strings",
    minItems: "arrays", maxItems: "arrays", items: "arrays", prefixItems: "arrays",
    properties: "objects", required: "objects", additionalProperties: "objects"
};
const simpleTypes = new Set(["object", "array", "string", "number", "integer", "boolean", "null"]);
const knownFormats = new Set(["date", "time", "date-time", "uuid", "uuid1", "uuid2", "uuid3", "uuid4", "uuid5"]);
// llama.cpp expands {m,n} into rules and refuses more than 2000 of them.
const maxRepetition = 1000;
/**
 * Bounds that keep one request's grammar quick to build (a 20,000-value enum took a second, in
 * which every other stream stalled) and its converter off the end of the stack (a schema nested
 * 1,000 levels deep). OpenAI's structured outputs take at most 1,000 enum values (and 5,000
 * properties, here 1,000: with optional ones the grammar grows as their square); their 10 levels
 * of nesting would refuse real schemas, so the depth bound is of the schema document, far above.
 */
export const maxSchemaDepth = 128;
export const maxEnumValues = 1000;
export const maxProperties = 1000;

export function isSchemaObject(value: unknown): value is Schema {
    return typeof value === "object" && value != null && !Array.isArray(value);
}

export class SchemaConverter {
    private readonly rules = new Map<string, string>([["space", spaceRule]]);
    private readonly refs = new Map<string, unknown>();
    private readonly refsBeingResolved = new Set<string>();

    private enumValues = 0;
    private properties = 0;

    constructor(private readonly root: unknown) {
        this.resolveRefs(root, "", 0);
    }

    /** Whether the schema holds a `$ref` (only then can its grammar hold a cycle). */
    get hasRefs(): boolean {
        return this.refs.size > 0;
    }

    /** The `$ref` whose rule is `ruleName`, if one is (to name an endless cycle by where it points). */
    refOfRule(ruleName: string): string | undefined {
        return [...this.refs.keys()].find((ref) => refRuleName(ref) === ruleName);
    }

    /** llama.cpp's format_grammar: every rule, sorted by name (std::map order). */
    formatGrammar(): string {
        return [...this.rules].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([name, rule]) => `${name} ::= ${rule}\n`).join("");
    }

    addRule(name: string, rule: string): string {
        const escaped = name.replace(/[^a-zA-Z0-9-]+/g, "-");
        if (!this.rules.has(escaped) || this.rules.get(escaped) === rule) {
            this.rules.set(escaped, rule);
            return escaped;
        }
        let i = 0;
        while (this.rules.has(`${escaped}${i}`) && this.rules.get(`${escaped}${i}`) !== rule) i++;
        const key = `${escaped}${i}`;
        this.rules.set(key, rule);
        return key;
    }

    private addPrimitive(name: string, rule: BuiltinRule): string {
        const added = this.addRule(name, rule.content);
        for (const dep of rule.deps) {
            const depRule = primitiveRules[dep] ?? stringFormatRules[dep]!;
            if (!this.rules.has(dep)) this.addPrimitive(dep, depRule);
        }
        return added;
    }

    /**
     * Every local $ref (`#/…`, a JSON Pointer into this schema), checked before any rule is written,
     * and the bounds on depth and enum values.
     */
    private resolveRefs(node: unknown, path: string, depth: number) {
        if (depth > maxSchemaDepth && typeof node === "object" && node != null)
            throw schemaError(`the schema is nested more than ${maxSchemaDepth} levels deep`, path);
        if (Array.isArray(node)) {
            node.forEach((item, index) => this.resolveRefs(item, `${path}/${index}`, depth + 1));
            return;
        }
        if (!isSchemaObject(node)) return;
        if (isSchemaObject(node.properties)) {
            this.properties += Object.keys(node.properties).length;
            if (this.properties > maxProperties)
                throw schemaError(`the schema has more than ${maxProperties} properties in all, more than a grammar is built for in good time`, `${path}/properties`);
        }
        if (Array.isArray(node.enum)) {
            this.enumValues += node.enum.length;
            if (this.enumValues > maxEnumValues)
                throw schemaError(`the schema lists more than ${maxEnumValues} enum values in all, more than a grammar is built for in good time`, `${path}/enum`);
        }
        if ("$ref" in node) {
            const ref = node.$ref;
            if (typeof ref !== "string") throw schemaError("\"$ref\" must be a string", `${path}/$ref`);
            if (!this.refs.has(ref)) {
                if (ref !== "#" && !ref.startsWith("#/"))
                    throw schemaError(`"$ref" ${JSON.stringify(ref)} is not supported: only references into this schema ("#/$defs/…") are`, `${path}/$ref`);
                let target: unknown = this.root;
                for (const token of ref === "#" ? [] : ref.slice(2).split("/")) {
                    const key = token.replace(/~1/g, "/").replace(/~0/g, "~");
                    if (Array.isArray(target) && /^\d+$/.test(key) && Number(key) < target.length) target = target[Number(key)];
                    else if (isSchemaObject(target) && key in target) target = target[key];
                    else throw schemaError(`"$ref" ${JSON.stringify(ref)} does not point into this schema`, `${path}/$ref`);
                }
                this.refs.set(ref, target);
            }
        }
        // Values, not schemas: a "$ref" key inside them is data.
        for (const [key, value] of Object.entries(node))
            if (!["const", "enum", "default", "examples"].includes(key)) this.resolveRefs(value, `${path}/${key}`, depth + 1);
    }

    private resolveRef(ref: string, path: string): string {
        let refName = refRuleName(ref);
        if (!this.rules.has(refName) && !this.refsBeingResolved.has(ref)) {
            this.refsBeingResolved.add(ref);
            refName = this.visit(this.refs.get(ref), refName, ref.slice(1) || path);
            this.refsBeingResolved.delete(ref);
        }
        return refName;
    }

    private unionRule(name: string, alternatives: unknown[], path: string, keyword: string): string {
        return alternatives.map((alternative, index) =>
            this.visit(alternative, `${name}${name === "" ? "alternative-" : "-"}${index}`, `${path}/${keyword}/${index}`)).join(" | ");
    }

    /** The rule for a (sub)schema; `path` (a JSON Pointer) names it in errors. */
    visit(schema: unknown, name: string, path: string): string {
        const ruleName = reservedNames.has(name) ? `${name}-` : name === "" ? "root" : name;
        if (schema === true) return this.addRule(ruleName, this.addPrimitive("value", primitiveRules.value!));
        if (schema === false) throw schemaError("`false` allows no value at all", path);
        if (!isSchemaObject(schema)) throw schemaError("expected a schema object", path);
        // OpenAPI's (and older AI SDK's) nullable: the schema, or null.
        if (schema.nullable === true) {
            const {nullable: _, ...rest} = schema;
            return this.visit({anyOf: [rest, {type: "null"}]}, name, path);
        }
        if (schema.nullable != null && schema.nullable !== false) throw schemaError("\"nullable\" must be true or false", `${path}/nullable`);
        if (Array.isArray(schema.type)) {
            if (schema.type.length === 0) throw schemaError("\"type\" must not be empty", `${path}/type`);
            const honoured = new Set<string>(["type", "nullable"]);
            const rule = this.addRule(ruleName, schema.type.map((type, index) => {
                const [alternative, used] = this.branch({...schema, type}, `${name}${name === "" ? "alternative-" : "-"}${index}`, path);
                for (const keyword of used) honoured.add(keyword);
                return alternative;
            }).join(" | "));
            this.checkHonoured(schema, honoured, path);
            return rule;
        }
        const [rule, honoured] = this.branch(schema, name, path);
        this.checkHonoured(schema, new Set([...honoured, "nullable"]), path);
        return rule;
    }

    private checkHonoured(schema: Schema, honoured: Set<string>, path: string) {
        for (const keyword of Object.keys(schema)) {
            if (annotations.has(keyword) || honoured.has(keyword)) continue;
            const applies = keywordApplies[keyword];
            if (applies != null) throw schemaError(`"${keyword}" cannot be honoured here: it is supported on ${applies}${schema.type === undefined ? " (give a \"type\")" : ""}`, path);
            if (keyword === "type" || keyword === "enum" || keyword === "const")
                throw schemaError(`"${keyword}" beside ${["$ref", "anyOf", "oneOf", "allOf", "enum", "const"].filter((other) => other in schema && other !== keyword).map((other) => `"${other}"`).join(" and ")} is not supported`, path);
            throw schemaError(`the keyword "${keyword}" is not supported`, path);
        }
    }

    /** llama.cpp's visit, branch for branch: the rule, and the keywords the branch honoured. */
    private branch(schema: Schema, name: string, path: string): [string, string[]] {
        const type = schema.type;
        const format = schema.format;
        const ruleName = reservedNames.has(name) ? `${name}-` : name === "" ? "root" : name;
        if ("$ref" in schema) return [this.addRule(ruleName, this.resolveRef(schema.$ref as string, path)), ["$ref"]];
        if ("oneOf" in schema || "anyOf" in schema) {
            if ("oneOf" in schema && "anyOf" in schema) throw schemaError("\"anyOf\" together with \"oneOf\" is not supported", path);
            const keyword = "oneOf" in schema ? "oneOf" : "anyOf";
            const alternatives = schema[keyword];
            if (!Array.isArray(alternatives) || alternatives.length === 0) throw schemaError(`"${keyword}" must be a non-empty array`, `${path}/${keyword}`);
            // llama.cpp ignores a "type" beside the alternatives: honoured when every alternative is of that type anyway.
            const typeHolds = alternatives.every((alternative) => this.impliedType(alternative) === type);
            return [this.addRule(ruleName, this.unionRule(name, alternatives, path, keyword)), typeHolds ? [keyword, "type"] : [keyword]];
        }
        if (type !== undefined && (typeof type !== "string" || !simpleTypes.has(type)))
            throw schemaError(`unknown type ${JSON.stringify(type)}`, `${path}/type`);
        if ("const" in schema) return [this.addRule(ruleName, this.constantRule(schema.const, `${path}/const`)), ["const", "type"]];
        if ("enum" in schema) {
            if (!Array.isArray(schema.enum) || schema.enum.length === 0) throw schemaError("\"enum\" must be a non-empty array", `${path}/enum`);
            const values = schema.enum.map((value, index) => this.constantRule(value, `${path}/enum/${index}`));
            return [this.addRule(ruleName, `(${values.join(" | ")})`), ["enum", "type"]];
        }
        const required = this.requiredOf(schema, path);
        const properties = this.propertiesOf(schema, path);
        // A required name with no schema of its own may hold any value (llama.cpp would not produce it).
        const unlisted = required.filter((key) => !properties.some(([listed]) => listed === key));
        if ((type === undefined || type === "object")
            && ("properties" in schema || unlisted.length > 0 || ("additionalProperties" in schema && schema.additionalProperties !== true))) {
            const all: [string, unknown][] = [...properties, ...unlisted.map((key): [string, unknown] => [key, true])];
            return [this.addRule(ruleName, this.objectRule(all, new Set(required), name, schema.additionalProperties, path)),
                ["type", "properties", "required", "additionalProperties"]];
        }
        if ((type === undefined || type === "object" || type === "string") && "allOf" in schema) return this.allOfRule(schema, name, ruleName, path);
        if ((type === undefined || type === "array") && ("items" in schema || "prefixItems" in schema || (type === "array" && ("minItems" in schema || "maxItems" in schema))))
            return this.arrayRule(schema, name, ruleName, path);
        if ((type === undefined || type === "string") && "pattern" in schema) {
            // zod writes a pattern beside every format it checks (date, email, ipv4 …): the pattern is produced,
            // as llama.cpp does. (Since draft 2019-09 a format only annotates unless a validator opts in.)
            const honoured = ["type", "pattern", "format"];
            if (type === "string" && ("minLength" in schema || "maxLength" in schema)) {
                const lengths = {min: this.count(schema, "minLength", path) ?? 0, max: this.count(schema, "maxLength", path)};
                return [patternToRule(schema.pattern, ruleName, this, `${path}/pattern`, lengths), [...honoured, "minLength", "maxLength"]];
            }
            return [patternToRule(schema.pattern, ruleName, this, `${path}/pattern`), honoured];
        }
        if ((type === undefined || type === "string") && format !== undefined) {
            if (typeof format !== "string" || !knownFormats.has(format))
                throw schemaError(`the string format ${JSON.stringify(format)} is not supported (date, time, date-time and uuid are)`, `${path}/format`);
            if (format.startsWith("uuid")) return [this.addPrimitive(ruleName === "root" ? "root" : format, primitiveRules.uuid!), ["type", "format"]];
            return [this.addRule(ruleName, this.addPrimitive(`${format}-string`, stringFormatRules[`${format}-string`]!)), ["type", "format"]];
        }
        if (type === "string" && ("minLength" in schema || "maxLength" in schema)) {
            const char = this.addPrimitive("char", primitiveRules.char!);
            const min = this.count(schema, "minLength", path) ?? 0;
            const max = this.count(schema, "maxLength", path);
            if (max != null && max < min) throw schemaError("\"maxLength\" is below \"minLength\"", path);
            return [this.addRule(ruleName, `"\\"" ${buildRepetition(char, min, max)} "\\""`), ["type", "minLength", "maxLength"]];
        }
        if (type === "integer" && ["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"].some((keyword) => keyword in schema)) {
            const [min, max] = this.integerBounds(schema, path);
            return [this.addRule(ruleName, `(${integerRangeRule(min, max)})`), ["type", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"]];
        }
        // llama.cpp reads an empty schema as any object, and one with only annotations as any value.
        if (type === "object" || Object.keys(schema).length === 0)
            return [this.addRule(ruleName, this.addPrimitive("object", primitiveRules.object!)), ["type", "additionalProperties", "required"]];
        if (type === undefined) return [this.addRule(ruleName, this.addPrimitive("value", primitiveRules.value!)), []];
        return [this.addPrimitive(ruleName === "root" ? "root" : type as string, primitiveRules[type as string]!), ["type"]];
    }

    /** The one type a schema's values have, when its keywords say so (its `type`, or object/array/string keywords). */
    private impliedType(schema: unknown, seen = new Set<unknown>()): string | undefined {
        if (!isSchemaObject(schema) || seen.has(schema)) return undefined;
        seen.add(schema);
        if (typeof schema.$ref === "string") return this.impliedType(this.refs.get(schema.$ref), seen);
        if (typeof schema.type === "string") return schema.type;
        if (["properties", "additionalProperties", "required"].some((key) => key in schema)) return "object";
        if (["items", "prefixItems"].some((key) => key in schema)) return "array";
        if (["pattern", "format", "minLength", "maxLength"].some((key) => key in schema)) return "string";
        return undefined;
    }

    private requiredOf(schema: Schema, path: string): string[] {
        const required = schema.required ?? [];
        if (!Array.isArray(required) || required.some((key) => typeof key !== "string"))
            throw schemaError("\"required\" must be an array of names", `${path}/required`);
        return required as string[];
    }

    private propertiesOf(schema: Schema, path: string): [string, unknown][] {
        const properties = schema.properties ?? {};
        if (!isSchemaObject(properties)) throw schemaError("\"properties\" must be an object", `${path}/properties`);
        return Object.entries(properties);
    }

    private constantRule(value: unknown, path: string): string {
        if (typeof value === "number" && !Number.isFinite(value)) throw schemaError("a non-finite number cannot be produced", path);
        return formatLiteral(JSON.stringify(value));
    }

    private count(schema: Schema, keyword: string, path: string): number | undefined {
        const value = schema[keyword];
        if (value == null) return undefined;
        if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
            throw schemaError(`"${keyword}" must be a whole number ≥ 0`, `${path}/${keyword}`);
        if (value > maxRepetition) throw schemaError(`"${keyword}" above ${maxRepetition} is not supported (llama.cpp's grammar limit)`, `${path}/${keyword}`);
        return value;
    }

    /** The inclusive integer bounds; the tighter one when both forms are given (llama.cpp takes the inclusive one). */
    private integerBounds(schema: Schema, path: string): [number | undefined, number | undefined] {
        const bound = (keyword: string) => {
            const value = schema[keyword];
            if (value === undefined) return undefined;
            if (typeof value !== "number" || !Number.isFinite(value)) throw schemaError(`"${keyword}" must be a number`, `${path}/${keyword}`);
            if (Math.abs(value) > Number.MAX_SAFE_INTEGER) throw schemaError(`"${keyword}" beyond ±2^53 is not supported`, `${path}/${keyword}`);
            return value;
        };
        const lows = [bound("minimum"), bound("exclusiveMinimum")].map((value, index) =>
            value === undefined ? undefined : index === 0 ? Math.ceil(value) : Math.floor(value) + 1).filter((value) => value !== undefined);
        const highs = [bound("maximum"), bound("exclusiveMaximum")].map((value, index) =>
            value === undefined ? undefined : index === 0 ? Math.floor(value) : Math.ceil(value) - 1).filter((value) => value !== undefined);
        const min = lows.length === 0 ? undefined : Math.max(...lows);
        const max = highs.length === 0 ? undefined : Math.min(...highs);
        if (min != null && max != null && max < min) throw schemaError("no integer lies between the minimum and the maximum", path);
        return [min, max];
    }

    /**
     * llama.cpp's arrays: a tuple (`prefixItems`, or draft 7's `items` as a list) is produced whole;
     * `items` alone repeats minItems…maxItems times. Beyond llama.cpp: a tuple followed by `items`, and
     * minItems/maxItems on an array without `items` (any values).
     */
    private arrayRule(schema: Schema, name: string, ruleName: string, path: string): [string, string[]] {
        const prefix = name === "" ? "" : "-";
        const honoured = ["type", "items", "prefixItems", "minItems", "maxItems"];
        const tuple = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : undefined;
        // llama.cpp reads a "prefixItems" schema (not a list) as "items"; beside "items" it would be dropped.
        if ("prefixItems" in schema && !Array.isArray(schema.prefixItems) && "items" in schema)
            throw schemaError("\"prefixItems\" must be an array", `${path}/prefixItems`);
        if (tuple != null) {
            const keyword = Array.isArray(schema.prefixItems) ? "prefixItems" : "items";
            if ("minItems" in schema || "maxItems" in schema)
                throw schemaError("\"minItems\"/\"maxItems\" beside a tuple (\"prefixItems\") are not supported", path);
            const parts = tuple.map((item, index) => this.visit(item, `${name}${prefix}tuple-${index}`, `${path}/${keyword}/${index}`));
            const rest = keyword === "prefixItems" && "items" in schema && schema.items !== false
                ? ` ${buildRepetition(`("," space ${this.visit(schema.items, `${name}${prefix}item`, `${path}/items`)})`, 0, undefined)}` : "";
            return [this.addRule(ruleName, `"[" space ${parts.join(" \",\" space ")}${rest} space "]"`), honoured];
        }
        if (schema.items === false) throw schemaError("\"items\": false is only supported beside \"prefixItems\"", `${path}/items`);
        const keyword = "items" in schema ? "items" : "prefixItems";
        const item = this.visit(keyword in schema ? schema[keyword] : true, `${name}${prefix}item`, `${path}/${keyword}`);
        const min = this.count(schema, "minItems", path) ?? 0;
        const max = this.count(schema, "maxItems", path);
        if (max != null && max < min) throw schemaError("\"maxItems\" is below \"minItems\"", path);
        return [this.addRule(ruleName, `"[" space ${buildRepetition(item, min, max, "\",\" space")} space "]"`), honoured];
    }

    /**
     * llama.cpp's allOf: the object components' properties merged (those under a nested anyOf optional),
     * or the values every enum component allows. One component is that component.
     */
    private allOfRule(schema: Schema, name: string, ruleName: string, path: string): [string, string[]] {
        const components = schema.allOf;
        if (!Array.isArray(components) || components.length === 0) throw schemaError("\"allOf\" must be a non-empty array", `${path}/allOf`);
        const resolved = (component: unknown) => isSchemaObject(component) && typeof component.$ref === "string" ? this.refs.get(component.$ref) : component;
        const mergeable = (component: unknown) => isSchemaObject(resolved(component)) && ["properties", "enum", "anyOf"].some((key) => key in (resolved(component) as Schema));
        if (components.length === 1 && schema.type === undefined && !mergeable(components[0])) return [this.addRule(ruleName, this.visit(components[0], `${name}${name === "" ? "" : "-"}allOf-0`, `${path}/allOf/0`)), ["allOf"]];
        const required = new Set<string>();
        const properties: [string, unknown][] = [];
        const enumCounts = new Map<string, number>();
        const addComponent = (component: unknown, isRequired: boolean, where: string) => {
            if (isSchemaObject(component) && typeof component.$ref === "string") return addComponent(this.refs.get(component.$ref), isRequired, component.$ref.slice(1));
            if (isSchemaObject(component) && isSchemaObject(component.properties)) {
                for (const [key, value] of Object.entries(component.properties)) {
                    properties.push([key, value]);
                    if (isRequired) required.add(key);
                }
                for (const keyword of Object.keys(component))
                    if (!annotations.has(keyword) && !["type", "properties", "required", "additionalProperties"].includes(keyword))
                        throw schemaError(`"${keyword}" in an "allOf" component is not supported`, where);
            } else if (isSchemaObject(component) && Array.isArray(component.enum)) {
                for (const value of component.enum) {
                    const rule = this.constantRule(value, where);
                    enumCounts.set(rule, (enumCounts.get(rule) ?? 0) + 1);
                }
            } else if (isSchemaObject(component) && Object.keys(component).every((key) => annotations.has(key) || (key === "type" && component.type === "object"))) {
                // Nothing to merge: `{"type": "object"}` or a description.
            } else throw schemaError("an \"allOf\" component must be an object with \"properties\", an \"enum\", or a \"$ref\" to one", where);
        };
        components.forEach((component, index) => {
            if (isSchemaObject(component) && Array.isArray(component.anyOf))
                component.anyOf.forEach((alternative, inner) => addComponent(alternative, false, `${path}/allOf/${index}/anyOf/${inner}`));
            else addComponent(component, true, `${path}/allOf/${index}`);
        });
        if (enumCounts.size > 0) {
            const both = [...enumCounts].filter(([, count]) => count === components.length).map(([rule]) => rule).sort();
            if (both.length === 0) throw schemaError("the \"allOf\" enums have no value in common", `${path}/allOf`);
            return [this.addRule(ruleName, `(${both.join(" | ")})`), ["type", "allOf"]];
        }
        return [this.addRule(ruleName, this.objectRule(properties, required, name, undefined, path)), ["type", "allOf"]];
    }

    /**
     * llama.cpp's _build_object_rule: required properties in order, then any run of the optional ones in
     * order; additionalProperties (true or a schema) adds other names, never one of the listed ones.
     * Absent, it adds none (as llama.cpp: a generated object holds what the schema names).
     */
    private objectRule(properties: [string, unknown][], required: Set<string>, name: string, additional: unknown, path: string): string {
        const prefix = name === "" ? "" : "-";
        const requiredProps: string[] = [];
        const optionalProps: string[] = [];
        const kvRuleNames = new Map<string, string>();
        for (const [key, schema] of properties) {
            const valueRule = this.visit(schema, `${name}${prefix}${key}`, `${path}/properties/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`);
            kvRuleNames.set(key, this.addRule(`${name}${prefix}${key}-kv`, `${formatLiteral(JSON.stringify(key))} space ":" space ${valueRule}`));
            (required.has(key) ? requiredProps : optionalProps).push(key);
        }
        if (additional === true || isSchemaObject(additional)) {
            const subName = `${name}${prefix}additional`;
            const valueRule = isSchemaObject(additional) ? this.visit(additional, `${subName}-value`, `${path}/additionalProperties`)
                : this.addPrimitive("value", primitiveRules.value!);
            const keyRule = properties.length === 0 ? this.addPrimitive("string", primitiveRules.string!)
                : this.addRule(`${subName}-k`, this.notStrings(properties.map(([key]) => key)));
            kvRuleNames.set("*", this.addRule(`${subName}-kv`, `${keyRule} ":" space ${valueRule}`));
            optionalProps.push("*");
        } else if (additional !== undefined && additional !== false) throw schemaError("\"additionalProperties\" must be a boolean or a schema", `${path}/additionalProperties`);

        if (requiredProps.length === 0 && optionalProps.length === 0) return "\"{\" space \"}\"";
        let rule = `"{" space ${requiredProps.map((key) => kvRuleNames.get(key)!).join(" \",\" space ")}`;
        if (optionalProps.length > 0) {
            rule += " (";
            if (requiredProps.length > 0) rule += " \",\" space ( ";
            // The rule of the keys from `start` on, each one optional, is the same wherever it is asked
            // for: written once (llama.cpp writes it again for every alternative, cubic in the keys:
            // 1,000 optional properties took 7 s, 2,000 took minutes).
            const restRules = new Map<number, string>();
            const recursiveRefs = (start: number, firstIsOptional: boolean): string => {
                const key = optionalProps[start]!;
                const kvRule = kvRuleNames.get(key)!;
                const commaRef = `( "," space ${kvRule} )`;
                let result = firstIsOptional ? commaRef + (key === "*" ? "*" : "?") : kvRule + (key === "*" ? ` ${commaRef}*` : "");
                if (start + 1 < optionalProps.length) {
                    let rest = restRules.get(start + 1);
                    if (rest == null) {
                        rest = this.addRule(`${name}${prefix}${key}-rest`, recursiveRefs(start + 1, true));
                        restRules.set(start + 1, rest);
                    }
                    result += ` ${rest}`;
                }
                return result;
            };
            rule += optionalProps.map((_, index) => recursiveRefs(index, false)).join(" | ");
            if (requiredProps.length > 0) rule += " )";
            rule += " )?";
        }
        return `${rule} space "}"`;
    }

    /**
     * Whether nothing can follow a complete value of this schema: then generation ends the moment the
     * grammar is complete, without asking the model for an end token. A number can always take one more
     * digit, so a schema that may be a number (or any value) leaves the end to the model. Call after visit.
     */
    isClosed(schema: unknown, seen = new Set<unknown>()): boolean {
        if (schema === true) return false;
        if (!isSchemaObject(schema)) return true;
        if (seen.has(schema)) return true;
        seen.add(schema);
        if (Array.isArray(schema.type)) return schema.type.every((type) => this.isClosed({...schema, type}, seen));
        if (typeof schema.$ref === "string") return this.isClosed(this.refs.get(schema.$ref), seen);
        const alternatives = schema.oneOf ?? schema.anyOf;
        if (Array.isArray(alternatives)) return alternatives.every((alternative) => this.isClosed(alternative, seen));
        if ("const" in schema) return typeof schema.const !== "number";
        if (Array.isArray(schema.enum)) return schema.enum.every((value) => typeof value !== "number");
        if (Array.isArray(schema.allOf)) return schema.allOf.every((component) => this.isClosed(component, seen));
        if (schema.type === "integer" || schema.type === "number") return false;
        if (schema.type !== undefined) return true;
        return Object.keys(schema).length === 0 || ["properties", "additionalProperties", "required", "items", "prefixItems", "pattern", "format"].some((key) => key in schema);
    }

    /**
     * llama.cpp's _not_strings: a JSON string that is none of `strings` (other keys than the listed ones).
     * One fix: the character that leaves the listed names is a plain JSON string character, never a raw
     * `\` or control character (llama.cpp's [^"…] takes `{"\": 1}`, which is not JSON).
     */
    private notStrings(strings: string[]): string {
        type Node = {children: Map<string, Node>, end: boolean};
        const trie: Node = {children: new Map(), end: false};
        for (const text of strings) {
            let node = trie;
            // Bytes, as the C++ walks a std::string; JSON keys are mostly ASCII.
            for (const c of text) {
                if (!node.children.has(c)) node.children.set(c, {children: new Map(), end: false});
                node = node.children.get(c)!;
            }
            node.end = true;
        }
        const char = this.addPrimitive("char", primitiveRules.char!);
        const out: string[] = ["[\"] ( "];
        const visit = (node: Node) => {
            let rejects = "";
            let first = true;
            for (const c of [...node.children.keys()].sort()) {
                const child = node.children.get(c)!;
                rejects += c;
                if (first) first = false;
                else out.push(" | ");
                out.push(`[${c}]`);
                if (child.children.size > 0) {
                    out.push(" (");
                    visit(child);
                    out.push(")");
                } else if (child.end) out.push(` ${char}+`);
            }
            if (node.children.size > 0) {
                if (!first) out.push(" | ");
                // llama.cpp writes [^"…]: a raw backslash or control character there is not JSON.
                out.push(`${plainChar}${rejects}] ${char}*`);
            }
        };
        visit(trie);
        out.push(" )", trie.end ? "" : "?", " [\"]");
        return out.join("");
    }
}

/** The rule a `$ref` becomes (llama.cpp's name for it). */
function refRuleName(ref: string): string {
    const fragment = ref.slice(ref.indexOf("#") + 1);
    return `ref${fragment.replace(/[^a-zA-Z0-9-]+/g, "-")}`;
}
