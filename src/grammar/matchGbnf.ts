import {Element, parseGbnf, type GrammarElement, type ParsedGbnf} from "./parseGbnf.js";

/**
 * llama.cpp's grammar matcher (llama-grammar.cpp: llama_grammar_advance_stack, llama_grammar_match_char,
 * llama_grammar_accept) over the rule table src/grammar/parseGbnf.ts builds, so a test can ask whether a
 * grammar accepts a string, or draw strings from it, without the native binding. Code points, as
 * llama.cpp matches them; a token element (<[id]>) never matches text.
 */

/** A position in the rule table: [rule, element index]. A stack's top is its last entry. */
type Position = readonly [rule: number, index: number];
type Stack = readonly Position[];

export class GbnfMatcher {
    private readonly grammar: ParsedGbnf;

    constructor(gbnf: string, rootRule = "root") {
        this.grammar = parseGbnf(gbnf, rootRule);
    }

    /** Whether the whole text is a complete match (llama.cpp's match_string in test-grammar-integration.cpp). */
    accepts(text: string): boolean {
        let stacks = this.initialStacks();
        for (const char of text) {
            stacks = this.accept(stacks, char.codePointAt(0)!);
            if (stacks.length === 0) return false;
        }
        return stacks.some((stack) => stack.length === 0);
    }

    /**
     * A random string the grammar accepts, drawn character by character (`random` gives [0, 1)); undefined
     * when none completes within `maxLength` characters.
     */
    sample(random: () => number, maxLength = 200, stopChance = 0.3): string | undefined {
        let stacks = this.initialStacks();
        let text = "";
        while (text.length <= maxLength) {
            const open = stacks.filter((stack) => stack.length > 0);
            if (stacks.some((stack) => stack.length === 0) && (open.length === 0 || random() < stopChance)) return text;
            const stack = open[Math.floor(random() * open.length)];
            if (stack == null) return undefined;
            const char = this.drawChar(stack.at(-1)!, random);
            if (char == null) return undefined;
            const next = this.accept(stacks, char);
            if (next.length === 0) return undefined;
            stacks = next;
            text += String.fromCodePoint(char);
        }
        return undefined;
    }

    private element([rule, index]: Position): GrammarElement {
        return this.grammar.rules[rule]![index]!;
    }

    private initialStacks(): Stack[] {
        const stacks = new Map<string, Stack>();
        this.forEachAlternative(this.grammar.root, (start) => {
            this.advance(this.isEnd([this.grammar.root, start]) ? [] : [[this.grammar.root, start]], stacks);
        });
        return [...stacks.values()];
    }

    private isEnd(position: Position): boolean {
        const type = this.element(position).type;
        return type === Element.End || type === Element.Alt;
    }

    private forEachAlternative(rule: number, visit: (start: number) => void) {
        const elements = this.grammar.rules[rule]!;
        let index = 0;
        while (true) {
            visit(index);
            while (elements[index]!.type !== Element.End && elements[index]!.type !== Element.Alt) index++;
            if (elements[index]!.type === Element.Alt) index++;
            else return;
        }
    }

    /** llama_grammar_advance_stack: expand rule references on top until each stack tops a character. */
    private advance(start: Stack, into: Map<string, Stack>) {
        const todo: Stack[] = [start];
        const seen = new Set<string>();
        while (todo.length > 0) {
            const stack = todo.pop()!;
            const key = JSON.stringify(stack);
            if (seen.has(key)) continue;
            seen.add(key);
            if (stack.length === 0) {
                into.set(key, stack);
                continue;
            }
            const top = stack.at(-1)!;
            const element = this.element(top);
            if (element.type === Element.RuleRef) {
                this.forEachAlternative(element.value, (alternative) => {
                    const next: Position[] = stack.slice(0, -1);
                    const after: Position = [top[0], top[1] + 1];
                    if (!this.isEnd(after)) next.push(after);
                    if (!this.isEnd([element.value, alternative])) next.push([element.value, alternative]);
                    todo.push(next);
                });
            } else into.set(key, stack);
        }
    }

    /** llama_grammar_match_char: whether the character element at `position` takes `char`, and what follows it. */
    private matchChar(position: Position, char: number): [matched: boolean, after: Position] {
        const [rule, start] = position;
        const elements = this.grammar.rules[rule]!;
        let index = start;
        let found = false;
        const positive = elements[index]!.type === Element.Char || elements[index]!.type === Element.CharAny;
        do {
            const element = elements[index]!;
            if (elements[index + 1]?.type === Element.CharRangeUpper) {
                found ||= element.value <= char && char <= elements[index + 1]!.value;
                index += 2;
            } else if (element.type === Element.CharAny) {
                found = true;
                index += 1;
            } else {
                found ||= element.value === char;
                index += 1;
            }
        } while (elements[index]?.type === Element.CharAlt);
        return [found === positive, [rule, index]];
    }

    private accept(stacks: Stack[], char: number): Stack[] {
        const next = new Map<string, Stack>();
        for (const stack of stacks) {
            if (stack.length === 0) continue;
            const top = stack.at(-1)!;
            const type = this.element(top).type;
            if (type === Element.Token || type === Element.TokenNot) continue;
            const [matched, after] = this.matchChar(top, char);
            if (!matched) continue;
            const rest: Position[] = stack.slice(0, -1);
            if (!this.isEnd(after)) rest.push(after);
            this.advance(rest, next);
        }
        return [...next.values()];
    }

    /** A random character the character element at `position` takes (printable ASCII for a negated set). */
    private drawChar(position: Position, random: () => number): number | undefined {
        const [rule, start] = position;
        const elements = this.grammar.rules[rule]!;
        const type = elements[start]!.type;
        if (type === Element.Token || type === Element.TokenNot) return undefined;
        if (type === Element.CharNot || type === Element.CharAny) {
            for (let attempt = 0; attempt < 50; attempt++) {
                const char = 0x20 + Math.floor(random() * 0x5f);
                if (this.matchChar(position, char)[0]) return char;
            }
            return undefined;
        }
        const ranges: [number, number][] = [];
        let index = start;
        do {
            const low = elements[index]!.value;
            const high = elements[index + 1]?.type === Element.CharRangeUpper ? elements[index + 1]!.value : low;
            ranges.push([low, Math.min(high, low + 0x5f)]);
            index += elements[index + 1]?.type === Element.CharRangeUpper ? 2 : 1;
        } while (elements[index]?.type === Element.CharAlt);
        const [low, high] = ranges[Math.floor(random() * ranges.length)]!;
        return low + Math.floor(random() * (high - low + 1));
    }
}
