import {buildRepetition} from "./gbnfRules.js";
import {schemaError} from "./schemaError.js";

/**
 * A JSON Schema `pattern` as the GBNF of a JSON string: llama.cpp's _pattern_to_rule ported, with its
 * regex subset (literals, `.`, classes, groups and `(?:…)`, `|`, `* + ?`, `{m}`, `{m,}`, `{m,n}`; anchored
 * with ^…$). Where llama.cpp gives up and accepts any string, this refuses, naming the character.
 * Differences, each so the output stays one valid JSON string:
 * - a `"` or `\` the pattern matches is written escaped (`\"`, `\\`), as JSON needs it;
 * - `.` and negated classes never produce `"`, `\` or a control character (llama.cpp's `.` can end the
 *   string early or write a raw newline);
 * - `\d` and `\w` (ASCII, as in JavaScript) are supported, in and outside classes;
 * - minLength/maxLength beside a pattern (zod's `string().min().max().regex()`) are honoured when the
 *   pattern is one repeated character (`^[a-z]+$`): the repetition takes the tighter bounds. llama.cpp
 *   ignores them; any other pattern with lengths is refused, since a grammar cannot intersect the two.
 */

/** The rule-adding side of the converter, so the pattern's sub-rules join its grammar. */
export type RuleSink = {addRule(name: string, rule: string): string};

// Characters a JSON string may hold unescaped: what `.` and `[^…]` are limited to.
const jsonUnsafe = "\"\\\\\\x7F\\x00-\\x1F";
const nonLiteral = new Set("|.()[]{}*+?^$");
const escapedInRegexButNotInLiterals = new Set("^$.[]()|{}*+?");
const maxPatternDepth = 100;

export type Lengths = {min: number, max: number | undefined};

// One character unit (a class, \d, \w, `.` or a plain character) under one quantifier.
const repeatedUnit = /^(\[(?:\\.|[^\]\\])+\]|\\[dw]|\.|[^\\[\](){}|*+?.^$])(\*|\+|\?|\{(\d+)(,(\d*))?\})?$/;

export function patternToRule(pattern: unknown, name: string, sink: RuleSink, path: string, lengths?: Lengths): string {
    if (typeof pattern !== "string") throw schemaError("\"pattern\" must be a string", path);
    // `index` counts in the pattern without its ^: the message counts characters of the whole pattern.
    const refuse = (what: string, index: number): never => {
        throw schemaError(`the pattern ${JSON.stringify(pattern)} ${what} at character ${index + 2} (llama.cpp's regex subset: literals, ., [classes], (groups), (?:groups), |, *, +, ?, {m,n}, \\d, \\w)`, path);
    };
    if (pattern.length < 2 || !pattern.startsWith("^") || !pattern.endsWith("$"))
        throw schemaError(`the pattern ${JSON.stringify(pattern)} must be anchored with ^ and $ (a grammar produces the whole string)`, path);
    let sub = pattern.slice(1, -1);
    const subRuleIds = new Map<string, string>();
    let i = 0;
    let depth = 0;
    type Item = [text: string, isLiteral: boolean];
    const toRule = ([text, isLiteral]: Item) => isLiteral ? `"${text}"` : text;

    /** One escape inside a class or a literal, as GBNF; undefined when GBNF has no equivalent. */
    const escape = (index: number, inClass: boolean): [text: string, length: number] | undefined => {
        const next = sub[index + 1];
        if (next === "d") return [inClass ? "0-9" : "[0-9]", 2];
        if (next === "w") return [inClass ? "0-9A-Za-z_" : "[0-9A-Za-z_]", 2];
        if (next === "\\") return [inClass ? "" : "\\\\\\\\", 2];
        if (next === "\"") return [inClass ? "" : "\\\\\\\"", 2];
        if (next === "t" || next === "r" || next === "n") return undefined; // a raw control character is not JSON
        const hexDigits = next === "x" ? 2 : next === "u" ? 4 : 0;
        if (hexDigits > 0 && /^[0-9a-fA-F]+$/.test(sub.slice(index + 2, index + 2 + hexDigits)) && index + 2 + hexDigits <= sub.length) {
            const code = parseInt(sub.slice(index + 2, index + 2 + hexDigits), 16);
            if (code < 0x20 || code === 0x7f || code === 0x22 || code === 0x5c) return undefined;
            return [sub.slice(index, index + 2 + hexDigits), 2 + hexDigits];
        }
        if (inClass && (next === "[" || next === "]" || next === "-")) return [`\\${next}`, 2];
        // JavaScript's identity escapes of punctuation (\/, \-, \: …) are the character itself.
        if (next != null && /^[!-/:-@`~]$/.test(next)) return [next, 2];
        return undefined;
    };

    const transform = (): Item => {
        const seq: Item[] = [];
        const joinSeq = (): Item => {
            const joined: string[] = [];
            let literal = "";
            for (const item of seq) {
                if (item[1]) literal += item[0];
                else {
                    if (literal !== "") joined.push(`"${literal}"`);
                    literal = "";
                    joined.push(item[0]);
                }
            }
            if (literal !== "") joined.push(`"${literal}"`);
            return [joined.join(" "), false];
        };
        while (i < sub.length) {
            const c = sub[i]!;
            if (c === ".") {
                seq.push([sink.addRule("dot", `[^${jsonUnsafe}]`), false]);
                i++;
            } else if (c === "(") {
                const open = i;
                i++;
                if (sub[i] === "?") {
                    if (sub[i + 1] !== ":") refuse("has a lookaround, named group or flag", open);
                    i += 2;
                }
                depth++;
                if (depth > maxPatternDepth) refuse("nests too deeply", open);
                seq.push([`(${toRule(transform())})`, false]);
            } else if (c === ")") {
                if (depth === 0) refuse("has an unbalanced ')'", i);
                i++;
                depth--;
                return joinSeq();
            } else if (c === "^" || c === "$") {
                refuse(`has an anchor '${c}' inside`, i);
            } else if (c === "[") {
                const open = i;
                let negated = false;
                let members = "";
                i++;
                if (sub[i] === "^") {
                    negated = true;
                    i++;
                }
                while (i < sub.length && sub[i] !== "]") {
                    if (sub[i] === "\\") {
                        const escaped = escape(i, true);
                        if (escaped == null || escaped[0] === "") refuse(`has an escape ${sub.slice(i, i + 2)} a grammar cannot produce inside a JSON string`, i);
                        members += escaped![0];
                        i += escaped![1];
                    } else {
                        if (sub[i] === "\"") refuse("lets a character class produce '\"', which would end the JSON string", i);
                        members += sub[i];
                        i++;
                    }
                }
                if (i >= sub.length) refuse("has an unterminated character class", open);
                i++;
                seq.push([negated ? `[^${members}${jsonUnsafe}]` : `[${members}]`, false]);
            } else if (c === "|") {
                seq.push(["|", false]);
                i++;
            } else if (c === "*" || c === "+" || c === "?") {
                if (seq.length === 0) refuse(`has nothing to repeat before '${c}'`, i);
                seq[seq.length - 1] = [toRule(seq.at(-1)!) + c, false];
                i++;
                if (sub[i] === "?" || sub[i] === "+") refuse("has a lazy or possessive quantifier", i);
            } else if (c === "{") {
                const open = i;
                const close = sub.indexOf("}", i);
                if (close < 0) refuse("has an unterminated '{'", open);
                const numbers = sub.slice(i + 1, close).split(",");
                i = close + 1;
                if (numbers.length > 2 || !numbers.every((n) => /^\d+$/.test(n) || (numbers.length === 2 && n === "")) || seq.length === 0)
                    refuse("has a '{' that is not a repetition {m}, {m,} or {m,n}", open);
                const min = Number(numbers[0] || 0);
                const max = numbers.length === 1 ? min : numbers[1] === "" ? undefined : Number(numbers[1]);
                if (max != null && max < min) refuse("has a repetition whose maximum is below its minimum", open);
                if (min > 1000 || (max ?? 0) > 1000) refuse("repeats more than 1000 times (llama.cpp's grammar limit)", open);
                const [text, isLiteral] = seq.at(-1)!;
                let item = text;
                if (!isLiteral) {
                    let id = subRuleIds.get(text);
                    if (id == null) {
                        id = sink.addRule(`${name}-${subRuleIds.size + 1}`, text);
                        subRuleIds.set(text, id);
                    }
                    item = id;
                }
                seq[seq.length - 1] = [buildRepetition(isLiteral ? `"${item}"` : item, min, max), false];
                if (sub[i] === "?" || sub[i] === "+") refuse("has a lazy or possessive quantifier", i);
            } else {
                let literal = "";
                const start = i;
                while (i < sub.length) {
                    const here = sub[i]!;
                    if (here === "\\") {
                        if (i === sub.length - 1) refuse("ends with a lone backslash", i);
                        const next = sub[i + 1]!;
                        if (escapedInRegexButNotInLiterals.has(next)) {
                            literal += next;
                            i += 2;
                        } else {
                            const escaped = escape(i, false);
                            if (escaped == null) refuse(`has an escape ${sub.slice(i, i + 2)} a grammar cannot produce inside a JSON string`, i);
                            // \d and \w are classes, not literal text: they end the literal run.
                            if (escaped![0].startsWith("[")) {
                                if (literal === "") {
                                    seq.push([escaped![0], false]);
                                    i += escaped![1];
                                }
                                break;
                            }
                            literal += escaped![0];
                            i += escaped![1];
                        }
                    } else if (here === "\"") {
                        literal += "\\\\\\\"";
                        i++;
                    } else if (here.charCodeAt(0) < 0x20 || here.charCodeAt(0) === 0x7f) {
                        refuse("has a control character, which a JSON string must escape", i);
                    } else if (!nonLiteral.has(here) && (i === sub.length - 1 || literal === "" || sub[i + 1] === "." || !nonLiteral.has(sub[i + 1]!))) {
                        literal += here;
                        i++;
                    } else break;
                }
                if (literal !== "") seq.push([literal, true]);
                else if (i === start) refuse(`has a stray '${c}'`, i);
            }
        }
        return joinSeq();
    };

    if (lengths != null) {
        const unit = repeatedUnit.exec(sub);
        if (unit == null)
            throw schemaError(`"minLength"/"maxLength" beside the pattern ${JSON.stringify(pattern)} are not supported: only beside one repeated character, as ^[a-z]+$`, path);
        const [, char, quantifier, low, comma, high] = unit;
        const [unitMin, unitMax] = quantifier == null ? [1, 1] : quantifier === "*" ? [0, undefined] : quantifier === "+" ? [1, undefined]
            : quantifier === "?" ? [0, 1] : [Number(low), comma == null ? Number(low) : high === "" ? undefined : Number(high)];
        const min = Math.max(unitMin, lengths.min);
        const max = unitMax == null ? lengths.max : lengths.max == null ? unitMax : Math.min(unitMax, lengths.max);
        if (max != null && max < min) throw schemaError(`no string of the pattern ${JSON.stringify(pattern)} has a length within "minLength"/"maxLength"`, path);
        sub = char!;
        const item = toRule(transform());
        return sink.addRule(name, `"\\"" ${buildRepetition(item, min, max)} "\\""`);
    }
    const rule = toRule(transform());
    if (depth !== 0) refuse("has an unbalanced '('", sub.length);
    return sink.addRule(name, `"\\"" (${rule}) "\\""`);
}
