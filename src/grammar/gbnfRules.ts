/**
 * The building blocks of llama.cpp's json-schema-to-grammar (common/json-schema-to-grammar.cpp at the
 * revision node-llama-cpp 3.21.1 ships), rule for rule, so that a schema converts to the grammar
 * llama.cpp's own converter writes. Two deliberate differences, marked below: whitespace and a
 * number's exponent.
 */

export type BuiltinRule = {content: string, deps: string[]};

/**
 * Whitespace between tokens: nothing or one space. llama.cpp allows one or two newlines and up to 20
 * blanks there (llamaCppSpaceRule); one space keeps every answer on one line (`complete --lines`
 * prints one JSON value a line) and leaves a weak model no whitespace to spend max_tokens on.
 */
export const spaceRule = "| \" \"";

/** llama.cpp's space rule, for tests that compare with its grammars. */
export const llamaCppSpaceRule = "| \" \" | \"\\n\"{1,2} [ \\t]{0,20}";

/** A JSON string's character as it is: the start of a class, to close after any more exclusions. */
export const plainChar = "[^\"\\\\\\x7F\\x00-\\x1F";
/** A JSON string's escaped character. */
export const escapedChar = "[\\\\] ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4})";

export const primitiveRules: Record<string, BuiltinRule> = {
    "boolean": {content: "(\"true\" | \"false\")", deps: []},
    "decimal-part": {content: "[0-9]{1,16}", deps: []},
    "integral-part": {content: "[0] | [1-9] [0-9]{0,15}", deps: []},
    // llama.cpp's exponent is an integral-part (up to 16 digits): `1e400` parses as Infinity, which no
    // validator takes for a number. Two digits keep every number finite (at most ~1e115).
    "number": {content: "(\"-\"? integral-part) (\".\" decimal-part)? ([eE] [-+]? ([0] | [1-9] [0-9]?))?", deps: ["integral-part", "decimal-part"]},
    "integer": {content: "(\"-\"? integral-part)", deps: ["integral-part"]},
    "value": {content: "object | array | string | number | boolean | null", deps: ["object", "array", "string", "number", "boolean", "null"]},
    "object": {content: "\"{\" space ( string \":\" space value (\",\" space string \":\" space value)* )? space \"}\"", deps: ["string", "value"]},
    "array": {content: "\"[\" space ( value (\",\" space value)* )? space \"]\"", deps: ["value"]},
    "uuid": {content: "\"\\\"\" [0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{12} \"\\\"\"", deps: []},
    "char": {content: `${plainChar}] | ${escapedChar}`, deps: []},
    "string": {content: "\"\\\"\" char* \"\\\"\"", deps: ["char"]},
    "null": {content: "\"null\"", deps: []}
};

/** llama.cpp's number rule, for tests that compare with its grammars. */
export const llamaCppNumberRule = "(\"-\"? integral-part) (\".\" decimal-part)? ([eE] [-+]? integral-part)?";

export const stringFormatRules: Record<string, BuiltinRule> = {
    "date": {content: "[0-9]{4} \"-\" ( \"0\" [1-9] | \"1\" [0-2] ) \"-\" ( \"0\" [1-9] | [1-2] [0-9] | \"3\" [0-1] )", deps: []},
    "time": {content: "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]{3} )? ( \"Z\" | ( \"+\" | \"-\" ) ( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] )", deps: []},
    "date-time": {content: "date \"T\" time", deps: ["date", "time"]},
    "date-string": {content: "\"\\\"\" date \"\\\"\"", deps: ["date"]},
    "time-string": {content: "\"\\\"\" time \"\\\"\"", deps: ["time"]},
    "date-time-string": {content: "\"\\\"\" date-time \"\\\"\"", deps: ["date-time"]}
};

export const reservedNames = new Set(["root", ...Object.keys(primitiveRules), ...Object.keys(stringFormatRules)]);

/** A GBNF string literal, escaped as llama.cpp's format_literal does (\r, \n, ", \). */
export function formatLiteral(text: string): string {
    return `"${text.replace(/[\r\n"\\]/g, (c) => ({"\r": "\\r", "\n": "\\n", "\"": "\\\"", "\\": "\\\\"})[c]!)}"`;
}

/**
 * `item` repeated min…max times (max undefined: no limit), with `separator` between items: llama.cpp's
 * build_repetition, so the rules read as its own.
 */
export function buildRepetition(item: string, min: number, max: number | undefined, separator = ""): string {
    if (max === 0) return "";
    if (min === 0 && max === 1) return `${item}?`;
    if (separator === "") {
        if (min === 1 && max == null) return `${item}+`;
        if (min === 0 && max == null) return `${item}*`;
        return `${item}{${min},${max ?? ""}}`;
    }
    const result = `${item} ${buildRepetition(`(${separator} ${item})`, min === 0 ? 0 : min - 1, max == null ? undefined : max - 1)}`;
    return min === 0 ? `(${result})?` : result;
}
