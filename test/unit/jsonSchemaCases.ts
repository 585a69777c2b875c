import {readFileSync} from "node:fs";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {llamaCppNumberRule, llamaCppSpaceRule, plainChar, primitiveRules, spaceRule} from "../../src/grammar/gbnfRules.js";
import type {GbnfMatcher} from "../../src/grammar/matchGbnf.js";

// llama.cpp's own test cases for its JSON-schema-to-grammar converter, recorded once from the llama.cpp
// revision node-llama-cpp ships (test/fixtures/json-schema-to-grammar/record.py), and what the tests
// (test/unit/jsonSchemaLlamaCpp.test.ts, test/e2e/jsonSchemaNativeGrammar.test.ts) allow ours to do differently.

export type Case = {
    source: string, name: string, schema: unknown, status: "success" | "failure", cppOnly?: boolean,
    expectedGrammar?: string | null, pythonGrammar: string | null, pythonError: string | null,
    passing?: string[], failing?: string[],
    /** Extra cases (source "extra"): the schema that means the same to llama.cpp, and whether ours may reject more. */
    referenceSchema?: unknown, narrower?: boolean
};
export const fixture = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "json-schema-to-grammar", "cases.json"), "utf8")) as {cases: Case[]};
export const cases = fixture.cases;
export const caseName = (c: Case) => `${c.source} ${c.name}`;

/** Schemas llama.cpp converts by ignoring part of them, which we refuse instead (a usage error naming it). */
export const refused: Record<string, RegExp> = {
    // "prefixItems" given as an object beside "items" is malformed; llama.cpp drops it.
    "array with empty items and prefixItems": /"prefixItems" must be an array/,
    // An unanchored pattern matches anywhere in the string; llama.cpp then accepts any string.
    "unanchored regexp": /must be anchored with \^ and \$/,
    // "uniqueItems" cannot be enforced by a grammar, nor "exclusiveMinimum" on a number; llama.cpp ignores both.
    "required props": /"exclusiveMinimum" cannot be honoured here: it is supported on integers/
};

/** Cases whose grammar differs from llama.cpp's on purpose; their strings still agree but for the difference. */
export const grammarDiffers: Record<string, string> = {
    "regexp quote": "a \" in a pattern is written \\\" so the string stays valid JSON (llama.cpp writes a bare quote)",
    "regexp": "`.` never produces \", \\ or a control character, which would break the JSON string",
    "regexp with unsupported shorthand": "\\w is supported (llama.cpp accepts any string instead)",
    "unsupported regexp in a property": "\\- in a class is supported (llama.cpp accepts any string instead)",
    "max -5": "a negative maximum alone: the digits after \"-\" never start with 0 (llama.cpp accepts \"-05\", not JSON)"
};

/** Whether a string is one JSON value: where llama.cpp's grammar accepts one that is not, ours may reject it. */
export function isJson(text: string): boolean {
    try {
        JSON.parse(text);
        return true;
    } catch {
        return false;
    }
}

/** Our grammar with llama.cpp's rules put back where every grammar may differ: whitespace, numbers, other keys. */
export function asLlamaCppWrites(gbnf: string): string {
    // (At the root the number rule is named root.)
    // (At the root the number rule is named root.) The other-names rule of additionalProperties keeps a
    // raw backslash and control characters out of a key, where llama.cpp writes [^"…].
    return gbnf.replace(`space ::= ${spaceRule}\n`, `space ::= ${llamaCppSpaceRule}\n`)
        .replace(` ::= ${primitiveRules.number!.content}\n`, ` ::= ${llamaCppNumberRule}\n`)
        .split(plainChar).reduce((text, piece) => text + (piece.startsWith("]") ? plainChar : "[^\"") + piece);
}

/**
 * A string only llama.cpp accepts for one of those reasons: a number with a 3+ digit exponent (ours
 * keeps numbers finite), whitespace beyond one space (ours keeps answers on one line), or another key
 * than the listed ones with an escape where it leaves the listed names (ours takes a plain character there).
 */
export const onlyLlamaCppAccepts = /[0-9][eE][-+]?[1-9][0-9]{2,}|[\n\t]|  |[{,] ?"[^"]*\\/;

/** A small seeded generator (mulberry32), so the drawn strings are the same on every run. */
export function seeded(seed: number): () => number {
    return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** Near misses of a string: a character dropped, doubled or changed, the end cut or extended. */
export function mutations(text: string, random: () => number): string[] {
    const at = Math.floor(random() * Math.max(1, text.length));
    const alphabet = "\"\\{}[],:0123456789-.eE aZ\n";
    const char = alphabet[Math.floor(random() * alphabet.length)]!;
    return [text.slice(0, at) + text.slice(at + 1), text.slice(0, at) + text[at] + text.slice(at), text.slice(0, at) + char + text.slice(at + 1),
        text.slice(0, -1), text + char];
}


/** The strings to try on a case: llama.cpp's own, then `draws` drawn from each grammar, with near misses of each. */
export function stringsFor(c: Case, matchers: GbnfMatcher[], draws: number): Set<string> {
    const random = seeded(c.source.length * 7919 + c.name.length);
    const strings = new Set<string>([...c.passing ?? [], ...c.failing ?? []]);
    for (let draw = 0; draw < draws; draw++) {
        for (const matcher of matchers) {
            const text = matcher.sample(random);
            if (text == null) continue;
            strings.add(text);
            for (const near of mutations(text, random)) strings.add(near);
        }
    }
    return strings;
}
