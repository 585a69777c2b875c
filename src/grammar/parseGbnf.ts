/**
 * A check of llama.cpp's GBNF, ported from the parser node-llama-cpp 3.21.1 ships (src/llama-grammar.cpp:
 * parse_space … parse_rule, the undefined-rule check, the root check and the left-recursion check).
 *
 * Why our own: the native parser reports a bad grammar by printing "error parsing grammar" and the
 * whole grammar text straight to the process's stderr (fprintf, not the log callback), and the
 * binding then only throws "Failed to parse grammar". We want one line with a position, before any
 * model loads. The port follows the C++ step by step so that what passes here parses natively;
 * test/unit/parseGbnf.test.ts checks both on llama.cpp's own grammar files and on broken ones.
 */

export type GbnfError = {message: string, offset: number, line: number, column: number};

/** llama_gretype: the flat element list llama.cpp builds for each rule. */
export enum Element {End, Alt, RuleRef, Char, CharNot, CharRangeUpper, CharAlt, CharAny, Token, TokenNot}
export type GrammarElement = {type: Element, value: number};

/** A parsed grammar: llama.cpp's rule table (each rule its flat element list) and the root rule's index. */
/** `names[id]` is the rule's name in the text. */
export type ParsedGbnf = {rules: GrammarElement[][], root: number, names: readonly string[]};

// llama-grammar.cpp's MAX_REPETITION_THRESHOLD.
const maxRepetitionThreshold = 2000;

class GbnfSyntaxError extends Error {
    constructor(message: string, readonly offset: number) {
        super(message);
    }
}

/** Returns undefined when the grammar parses as llama.cpp would parse it, else the first error. */
export function checkGbnf(text: string, rootRule = "root"): GbnfError | undefined {
    try {
        new GbnfParser(text).parseAll(rootRule);
        return undefined;
    } catch (error) {
        if (!(error instanceof GbnfSyntaxError)) throw error;
        return {message: error.message, offset: error.offset, ...lineAndColumn(text, error.offset)};
    }
}

/** The grammar as llama.cpp parses it, for src/grammar/matchGbnf.ts; throws with the first error. */
export function parseGbnf(text: string, rootRule = "root"): ParsedGbnf {
    try {
        return new GbnfParser(text).parseAll(rootRule);
    } catch (error) {
        if (!(error instanceof GbnfSyntaxError)) throw error;
        const {line, column} = lineAndColumn(text, error.offset);
        throw new Error(`${error.message} at line ${line}, column ${column}`);
    }
}

function lineAndColumn(text: string, offset: number): {line: number, column: number} {
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    const column = offset - (before.lastIndexOf("\n") + 1) + 1;
    return {line, column};
}

const isDigit = (c: string) => c >= "0" && c <= "9";
const isWordChar = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "-" || isDigit(c);

class GbnfParser {
    private readonly symbolIds = new Map<string, number>();
    /** Where each symbol was first named, to point at an undefined one. */
    private readonly firstMention = new Map<number, number>();
    private readonly rules: GrammarElement[][] = [];

    constructor(private readonly src: string) {}

    /** The character at `pos`, or "" at the end (C's '\0'). */
    private at(pos: number): string {
        return pos < this.src.length ? this.src[pos]! : "";
    }

    parseAll(rootRule: string): ParsedGbnf {
        let pos = this.parseSpace(0, true);
        while (this.at(pos) !== "") pos = this.parseRule(pos);
        if (this.rules.length === 0) throw new GbnfSyntaxError("the grammar has no rules", 0);
        for (const [name, id] of this.symbolIds) {
            const rule = this.rules[id];
            if (rule == null || rule.length === 0)
                throw new GbnfSyntaxError(`undefined rule '${name}'`, this.firstMention.get(id) ?? 0);
        }
        if (!this.symbolIds.has(rootRule)) throw new GbnfSyntaxError(`the grammar has no '${rootRule}' rule`, this.src.length);
        this.checkLeftRecursion();
        const names: string[] = [];
        for (const [name, id] of this.symbolIds) names[id] = name;
        return {rules: this.rules, root: this.symbolIds.get(rootRule)!, names};
    }

    private parseSpace(pos: number, newlineOk: boolean): number {
        while (true) {
            const c = this.at(pos);
            if (c === "#") {
                while (this.at(pos) !== "" && this.at(pos) !== "\r" && this.at(pos) !== "\n") pos++;
            } else if (c === " " || c === "\t" || (newlineOk && (c === "\r" || c === "\n"))) pos++;
            else return pos;
        }
    }

    private parseName(pos: number): number {
        const start = pos;
        while (isWordChar(this.at(pos))) pos++;
        if (pos === start) throw new GbnfSyntaxError("expecting a rule name", start);
        return pos;
    }

    private parseInt(pos: number): number {
        const start = pos;
        while (isDigit(this.at(pos))) pos++;
        if (pos === start) throw new GbnfSyntaxError("expecting an integer", start);
        return pos;
    }

    private parseHex(pos: number, size: number): [number, number] {
        let value = 0;
        let end = pos;
        while (end < pos + size && /^[0-9a-fA-F]$/.test(this.at(end))) value = value * 16 + parseInt(this.at(end++), 16);
        if (end !== pos + size) throw new GbnfSyntaxError(`expecting ${size} hex digits`, pos);
        return [value, end];
    }

    private parseChar(pos: number): [number, number] {
        if (this.at(pos) === "\\") {
            const escaped = this.at(pos + 1);
            switch (escaped) {
                case "x": return this.parseHex(pos + 2, 2);
                case "u": return this.parseHex(pos + 2, 4);
                case "U": return this.parseHex(pos + 2, 8);
                case "t": return [9, pos + 2];
                case "r": return [13, pos + 2];
                case "n": return [10, pos + 2];
                case "\\": case "\"": case "[": case "]": case "-":
                    return [escaped.codePointAt(0)!, pos + 2];
                default:
                    throw new GbnfSyntaxError(`unknown escape \\${escaped}`, pos);
            }
        }
        const codePoint = this.src.codePointAt(pos);
        if (codePoint == null) throw new GbnfSyntaxError("unexpected end of input", pos);
        return [codePoint, pos + (codePoint > 0xffff ? 2 : 1)];
    }

    /** Only <[id]> parses here: the binding checks grammars without a vocabulary, so <text> fails natively. */
    private parseToken(pos: number): [number, number] {
        const start = pos;
        if (this.at(pos) !== "<") throw new GbnfSyntaxError("expecting '<'", pos);
        pos++;
        if (this.at(pos) !== "[")
            throw new GbnfSyntaxError("a token must be given by id, as <[123]> (tokens by text need a vocabulary)", start);
        pos++;
        const end = this.parseInt(pos);
        const id = Number(this.src.slice(pos, end));
        pos = end;
        if (this.at(pos) !== "]") throw new GbnfSyntaxError("expecting ']'", pos);
        pos++;
        if (this.at(pos) !== ">") throw new GbnfSyntaxError("expecting '>'", pos);
        return [id, pos + 1];
    }

    private symbolId(name: string, mentionedAt: number): number {
        let id = this.symbolIds.get(name);
        if (id == null) {
            id = this.symbolIds.size;
            this.symbolIds.set(name, id);
            this.firstMention.set(id, mentionedAt);
        }
        return id;
    }

    private generateSymbolId(baseName: string): number {
        const id = this.symbolIds.size;
        this.symbolIds.set(`${baseName}_${id}`, id);
        return id;
    }

    private addRule(id: number, rule: GrammarElement[]) {
        while (this.rules.length <= id) this.rules.push([]);
        this.rules[id] = rule;
    }

    private parseAlternates(pos: number, ruleName: string, ruleId: number, nested: boolean): number {
        const rule: GrammarElement[] = [];
        pos = this.parseSequence(pos, ruleName, rule, nested);
        while (this.at(pos) === "|") {
            rule.push({type: Element.Alt, value: 0});
            pos = this.parseSpace(pos + 1, true);
            pos = this.parseSequence(pos, ruleName, rule, nested);
        }
        rule.push({type: Element.End, value: 0});
        this.addRule(ruleId, rule);
        return pos;
    }

    private parseSequence(pos: number, ruleName: string, rule: GrammarElement[], nested: boolean): number {
        let lastSymStart = rule.length;
        let previousRules = 1;

        const repeat = (min: number, max: number | undefined) => {
            if (lastSymStart === rule.length) throw new GbnfSyntaxError("expecting an item before */+/?/{", pos);
            const totalRules = max != null && max > 0 ? max : min > 0 ? min : 1;
            if (previousRules * totalRules >= maxRepetitionThreshold)
                throw new GbnfSyntaxError(`repetitions would create more than ${maxRepetitionThreshold} rules (llama.cpp's limit)`, pos);
            const previous = rule.slice(lastSymStart);
            if (min === 0) rule.length = lastSymStart;
            else for (let i = 1; i < min; i++) rule.push(...previous);
            const optional = max == null ? 1 : max - min;
            let lastRecursiveId = 0;
            for (let i = 0; i < optional; i++) {
                const recursive = [...previous];
                const id = this.generateSymbolId(ruleName);
                if (i > 0 || max == null) recursive.push({type: Element.RuleRef, value: max == null ? id : lastRecursiveId});
                recursive.push({type: Element.Alt, value: 0}, {type: Element.End, value: 0});
                this.addRule(id, recursive);
                lastRecursiveId = id;
            }
            if (optional > 0) rule.push({type: Element.RuleRef, value: lastRecursiveId});
            previousRules *= totalRules;
        };

        while (this.at(pos) !== "") {
            const c = this.at(pos);
            if (c === "\"") {
                const open = pos;
                pos++;
                lastSymStart = rule.length;
                previousRules = 1;
                while (this.at(pos) !== "\"") {
                    if (this.at(pos) === "") throw new GbnfSyntaxError("unterminated string literal", open);
                    const [value, next] = this.parseChar(pos);
                    pos = next;
                    rule.push({type: Element.Char, value});
                }
                pos = this.parseSpace(pos + 1, nested);
            } else if (c === "[") {
                const open = pos;
                pos++;
                let startType = Element.Char;
                if (this.at(pos) === "^") {
                    pos++;
                    startType = Element.CharNot;
                }
                lastSymStart = rule.length;
                previousRules = 1;
                while (this.at(pos) !== "]") {
                    if (this.at(pos) === "") throw new GbnfSyntaxError("unterminated character class", open);
                    const [value, next] = this.parseChar(pos);
                    pos = next;
                    rule.push({type: lastSymStart < rule.length ? Element.CharAlt : startType, value});
                    if (this.at(pos) === "-" && this.at(pos + 1) !== "]") {
                        if (this.at(pos + 1) === "") throw new GbnfSyntaxError("unterminated character class", open);
                        const [upper, after] = this.parseChar(pos + 1);
                        pos = after;
                        rule.push({type: Element.CharRangeUpper, value: upper});
                    }
                }
                pos = this.parseSpace(pos + 1, nested);
            } else if (c === "<" || c === "!") {
                let type = Element.Token;
                if (c === "!") {
                    type = Element.TokenNot;
                    pos++;
                }
                const [value, end] = this.parseToken(pos);
                lastSymStart = rule.length;
                previousRules = 1;
                rule.push({type, value});
                pos = this.parseSpace(end, nested);
            } else if (isWordChar(c)) {
                const end = this.parseName(pos);
                const id = this.symbolId(this.src.slice(pos, end), pos);
                pos = this.parseSpace(end, nested);
                lastSymStart = rule.length;
                previousRules = 1;
                rule.push({type: Element.RuleRef, value: id});
            } else if (c === "(") {
                const open = pos;
                pos = this.parseSpace(pos + 1, true);
                const rulesBefore = this.symbolIds.size;
                const subRuleId = this.generateSymbolId(ruleName);
                pos = this.parseAlternates(pos, ruleName, subRuleId, true);
                previousRules = Math.max(1, this.symbolIds.size - rulesBefore);
                lastSymStart = rule.length;
                rule.push({type: Element.RuleRef, value: subRuleId});
                if (this.at(pos) !== ")") throw new GbnfSyntaxError(`expecting ')' to close the '(' at offset ${open}`, pos);
                pos = this.parseSpace(pos + 1, nested);
            } else if (c === ".") {
                lastSymStart = rule.length;
                previousRules = 1;
                rule.push({type: Element.CharAny, value: 0});
                pos = this.parseSpace(pos + 1, nested);
            } else if (c === "*" || c === "+" || c === "?") {
                const at = pos;
                pos = this.parseSpace(pos + 1, nested);
                const saved = pos;
                pos = at;
                if (c === "*") repeat(0, undefined);
                else if (c === "+") repeat(1, undefined);
                else repeat(0, 1);
                pos = saved;
            } else if (c === "{") {
                const at = pos;
                pos = this.parseSpace(pos + 1, nested);
                if (!isDigit(this.at(pos))) throw new GbnfSyntaxError("expecting a number after '{'", pos);
                let end = this.parseInt(pos);
                const min = Number(this.src.slice(pos, end));
                pos = this.parseSpace(end, nested);
                let max: number | undefined;
                if (this.at(pos) === "}") {
                    max = min;
                    pos = this.parseSpace(pos + 1, nested);
                } else if (this.at(pos) === ",") {
                    pos = this.parseSpace(pos + 1, nested);
                    if (isDigit(this.at(pos))) {
                        end = this.parseInt(pos);
                        max = Number(this.src.slice(pos, end));
                        pos = this.parseSpace(end, nested);
                    }
                    if (this.at(pos) !== "}") throw new GbnfSyntaxError("expecting '}'", pos);
                    pos = this.parseSpace(pos + 1, nested);
                } else throw new GbnfSyntaxError("expecting ',' or '}'", pos);
                if (min > maxRepetitionThreshold) throw new GbnfSyntaxError(`more than ${maxRepetitionThreshold} repetitions (llama.cpp's limit)`, at);
                if (max != null && max > maxRepetitionThreshold) max = undefined;
                if (max != null && max < min) throw new GbnfSyntaxError("the largest repetition count is below the smallest", at);
                const saved = pos;
                pos = at;
                repeat(min, max);
                pos = saved;
            } else break;
        }
        return pos;
    }

    private parseRule(pos: number): number {
        const nameEnd = this.parseName(pos);
        const name = this.src.slice(pos, nameEnd);
        const ruleId = this.symbolId(name, pos);
        pos = this.parseSpace(nameEnd, false);
        if (this.src.slice(pos, pos + 3) !== "::=") throw new GbnfSyntaxError(`expecting ::= after '${name}'`, pos);
        pos = this.parseSpace(pos + 3, true);
        pos = this.parseAlternates(pos, name, ruleId, false);
        if (this.at(pos) === "\r") pos += this.at(pos + 1) === "\n" ? 2 : 1;
        else if (this.at(pos) === "\n") pos++;
        else if (this.at(pos) !== "") throw new GbnfSyntaxError(`unexpected '${this.at(pos)}' (expecting the end of the rule)`, pos);
        return this.parseSpace(pos, true);
    }

    /** llama_grammar_detect_left_recursion over every rule, as llama_grammar_init_impl does. */
    private checkLeftRecursion() {
        const count = this.rules.length;
        const visited = new Array<boolean>(count).fill(false);
        const inProgress = new Array<boolean>(count).fill(false);
        const mayBeEmpty = new Array<boolean>(count).fill(false);
        const isEndOfSequence = (element: GrammarElement) => element.type === Element.End || element.type === Element.Alt;
        const detect = (index: number): boolean => {
            if (inProgress[index]) return true;
            inProgress[index] = true;
            const rule = this.rules[index]!;
            let atRuleStart = true;
            for (const element of rule) {
                if (isEndOfSequence(element)) {
                    if (atRuleStart) {
                        mayBeEmpty[index] = true;
                        break;
                    }
                    atRuleStart = true;
                } else atRuleStart = false;
            }
            let recurse = true;
            for (const element of rule) {
                if (element.type === Element.RuleRef && recurse) {
                    if (detect(element.value)) return true;
                    if (!mayBeEmpty[element.value]) recurse = false;
                } else recurse = isEndOfSequence(element);
            }
            inProgress[index] = false;
            visited[index] = true;
            return false;
        };
        for (let index = 0; index < count; index++) {
            if (visited[index]) continue;
            if (detect(index)) {
                const name = [...this.symbolIds].find(([, id]) => id === index)?.[0] ?? String(index);
                const base = name.replace(/_\d+$/, "");
                const ruleName = this.symbolIds.has(base) ? base : name;
                throw new GbnfSyntaxError(`rule '${ruleName}' is left-recursive, which llama.cpp does not support`,
                    this.firstMention.get(this.symbolIds.get(ruleName) ?? -1) ?? 0);
            }
        }
    }
}
