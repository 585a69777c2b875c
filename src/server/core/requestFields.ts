import {HttpError, invalidParam} from "./httpError.js";

/**
 * Reading a JSON request's fields with one sentence naming the field when one has the wrong type
 * or value, for the dialects that share these habits (Ollama's, Anthropic's). `param` is the name
 * the client knows the field by (`options.top_k`), used in the message.
 */
export type Fields = Record<string, unknown>;

export function asObject(value: unknown, what = "The request body"): Fields {
    if (value == null || typeof value !== "object" || Array.isArray(value)) throw new HttpError(400, `${what} must be a JSON object.`);
    return value as Fields;
}

/** `above`: an exclusive minimum (a value must be greater). */
export function optionalNumber(fields: Fields, name: string, {integer = false, min = -Infinity, above, max = Infinity, param = name}: {integer?: boolean, min?: number, above?: number, max?: number, param?: string} = {}): number | undefined {
    const value = fields[name];
    if (value == null) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || (integer && !Number.isInteger(value)))
        throw invalidParam(param, `${param} must be ${integer ? "an integer" : "a number"}.`);
    if (above != null && !(value > above)) throw invalidParam(param, `${param} must be greater than ${above}.`);
    if (value < min || value > max)
        throw invalidParam(param, `${param} must be ${max === Infinity ? `at least ${min}` : `between ${min} and ${max}`}.`);
    return value;
}

export function optionalBoolean(fields: Fields, name: string, param = name): boolean | undefined {
    const value = fields[name];
    if (value == null) return undefined;
    if (typeof value !== "boolean") throw invalidParam(param, `${param} must be true or false.`);
    return value;
}

export function optionalString(fields: Fields, name: string, param = name): string | undefined {
    const value = fields[name];
    if (value == null) return undefined;
    if (typeof value !== "string") throw invalidParam(param, `${param} must be a string.`);
    return value;
}

/** llama.cpp's seed is 32 bits: larger and negative seeds are taken modulo 2^32, so each still samples the same way. */
export function optionalSeed(fields: Fields, name: string, param = name): number | undefined {
    const value = optionalNumber(fields, name, {integer: true, param});
    return value == null ? undefined : ((value % 2 ** 32) + 2 ** 32) % 2 ** 32;
}

/** A list of stop strings (or one string, where the dialect allows it), at most 16 as OpenAI's limit. */
export function stopStrings(value: unknown, param: string, {single = false} = {}): string[] {
    if (value == null) return [];
    if (single && typeof value === "string") return [value];
    if (Array.isArray(value) && value.length <= 16 && value.every((item) => typeof item === "string")) return value as string[];
    throw invalidParam(param, `${param} must be ${single ? "a string or " : ""}a list of at most 16 strings.`);
}
