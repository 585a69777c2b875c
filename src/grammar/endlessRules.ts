import {Element, type ParsedGbnf} from "./parseGbnf.js";

/**
 * The rules no finite text matches: each of their alternatives needs a rule that needs itself
 * again, without end (a schema whose `$ref` cycle is required at every level). llama.cpp refuses
 * a rule that is nothing but itself and accepts the others, whose answers could then never be
 * complete. The fixpoint of "a rule ends when one of its alternatives has only rules that end".
 */
export function endlessRules(grammar: ParsedGbnf): string[] {
    const ends = grammar.rules.map(() => false);
    let changed = true;
    while (changed) {
        changed = false;
        grammar.rules.forEach((rule, id) => {
            if (ends[id] || !someAlternativeEnds(rule, ends)) return;
            ends[id] = true;
            changed = true;
        });
    }
    return grammar.rules.flatMap((_, id) => ends[id] ? [] : [grammar.names[id]!]);
}

function someAlternativeEnds(rule: ParsedGbnf["rules"][number], ends: readonly boolean[]): boolean {
    let alternativeEnds = true;
    for (const element of rule) {
        if (element.type === Element.Alt || element.type === Element.End) {
            if (alternativeEnds) return true;
            alternativeEnds = true;
        } else if (element.type === Element.RuleRef && !ends[element.value]) alternativeEnds = false;
    }
    return false;
}
