import type {ToolCall} from "../../../generator/chatMessages.js";
import type {GrammarSpec} from "../../../generator/sampling.js";
import type {ToolCallSyntax} from "../../../generator/templateTools.js";
import {jsonSchemaGrammar} from "../../../grammar/jsonSchemaToGbnf.js";
import type {ToolDefinition} from "../neutral.js";
import {CallScanner} from "./callScanner.js";
import {callSchema, maxParallelCalls} from "./toolAnswerGrammar.js";
import type {ToolReader} from "./toolAnswerReader.js";

/**
 * Calls in a template's own syntax when it is a JSON list of `{"name", "arguments"}` objects after
 * an opening (Mistral's v3 template and later: `[TOOL_CALLS] [{"name": "f", "arguments": {…}}, …]`):
 * the text before the list's "[" (undefined for another syntax, which keeps the generic path).
 */
export function callListOpening(syntax: ToolCallSyntax): string | undefined {
    const jsonList = syntax.callPrefix === "{\"name\": \"" && syntax.paramsPrefix === "\", \"arguments\": " && syntax.callSuffix === "}"
        && syntax.sectionPrefix.trimEnd().endsWith("[") && syntax.betweenCalls.trim() === "," && syntax.sectionSuffix.trim() === "]";
    if (!jsonList) return undefined;
    const opening = syntax.sectionPrefix.trimEnd().slice(0, -1);
    return opening === "" ? undefined : opening;
}

/**
 * The answer's grammar: the opening, then a JSON list of calls of the offered tools (each
 * argument valid against its tool's schema; one call unless `parallel`); with `required` false, a
 * text answer instead, which cannot begin with "[" (so it is never taken for calls).
 */
export function templateCallGrammar(tools: readonly ToolDefinition[], opening: string, {required, parallel}: {required: boolean, parallel: boolean}): GrammarSpec {
    const {call, defs} = callSchema(tools);
    const list = jsonSchemaGrammar({type: "array", items: call, minItems: 1, maxItems: parallel ? maxParallelCalls : 1, $defs: defs});
    const calls = `" "? ${JSON.stringify(opening)} space tool-call-list`;
    const rules = [
        list.gbnf.replace(/^root ::=/m, "tool-call-list ::="),
        required ? `root ::= ${calls}` : `root ::= ${calls} | text-answer`,
        ...(required ? [] : ["text-answer ::= (\" \"? [^[ \\x00] [^\\x00]*)?"])
    ];
    return {gbnf: rules.join("\n"), closed: required, describes: "grammar"};
}

/** Reads an answer in the template's syntax as it streams: text until it is clearly not the opening, then each call as its object closes. */
export class TemplateCallReader implements ToolReader {
    private raw = "";
    private mode: "unknown" | "text" | "calls" = "unknown";
    private text = "";
    private readonly calls: ToolCall[] = [];
    /** The list's items are the calls. */
    private readonly scanner = new CallScanner(2);

    constructor(private readonly opening: string) {}

    push(piece: string): {text: string, calls: ToolCall[]} {
        if (this.mode === "text") return this.addText(piece);
        if (this.mode === "calls") return this.addCalls(piece);
        this.raw += piece;
        const start = this.raw.trimStart();
        if (start.startsWith(this.opening)) {
            this.mode = "calls";
            return this.addCalls(start.slice(this.opening.length));
        }
        // Still a beginning of the opening: wait for more.
        if (this.opening.startsWith(start)) return {text: "", calls: []};
        // The list without its opening: a model whose vocabulary has the opening as a control token
        // (Mistral's own [TOOL_CALLS]) decodes it as nothing. Text never starts with "[" (the grammar).
        if (start.startsWith("[")) {
            this.mode = "calls";
            return this.addCalls(start);
        }
        this.mode = "text";
        return this.addText(this.raw);
    }

    finish(): {text: string, toolCalls: ToolCall[]} {
        return {text: this.text, toolCalls: [...this.calls]};
    }

    private addText(piece: string) {
        this.text += piece;
        return {text: piece, calls: []};
    }

    private addCalls(piece: string) {
        const closed = this.scanner.push(piece);
        this.calls.push(...closed);
        return {text: "", calls: closed};
    }
}
