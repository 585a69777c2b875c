import type {ToolCall} from "../../../generator/chatMessages.js";
import {CallScanner} from "./callScanner.js";

/** What reads an answer generated under a tool grammar as it streams: its text part and its calls. */
export type ToolReader = {
    push(piece: string): {text: string, calls: ToolCall[]},
    /**
     * The whole answer: its text and calls. A cut answer (max tokens) keeps the text decoded so far
     * and the calls that were complete.
     */
    finish(): {text: string, toolCalls: ToolCall[]}
};

/**
 * Reads an answer generated under toolAnswerGrammar as it streams: the text of a
 * `{"response": "…"}` answer comes out piece by piece, decoded from its JSON string (an escape
 * split across tokens waits for its end); each call of `{"tool_call": …}` / `{"tool_calls": [...]}`
 * comes out whole the moment its object closes, so a client can start on it while the model
 * writes the next.
 */
export class ToolAnswerReader implements ToolReader {
    private raw = "";
    private mode: "unknown" | "response" | "calls" = "unknown";
    /** Where reading goes on in `raw`: the response string's undecoded rest, or the calls' unscanned rest. */
    private cursor = 0;
    private closed = false;
    private text = "";
    private readonly calls: ToolCall[] = [];
    /** The calls' scan, from the value of `tool_call` / `tool_calls` on. */
    private scanner: CallScanner | undefined;

    push(piece: string): {text: string, calls: ToolCall[]} {
        this.raw += piece;
        if (this.mode === "unknown") {
            // The first key, and the first character of its value (the string's quote, the call's "{" or the list's "[").
            const opening = /^\s*\{\s*"(response|tool_calls?)"\s*:\s*\S/.exec(this.raw);
            if (opening == null) return {text: "", calls: []};
            this.mode = opening[1] === "response" ? "response" : "calls";
            this.cursor = opening[0].length;
            if (this.mode === "calls") {
                // The call is the value itself (`tool_call`), or an item of the list (`tool_calls`).
                this.scanner = new CallScanner(opening[1] === "tool_calls" ? 2 : 1);
                return {text: "", calls: this.readCalls(this.raw.slice(opening[0].length - 1))};
            }
        }
        if (this.mode === "calls") return {text: "", calls: this.readCalls(piece)};
        if (this.closed) return {text: "", calls: []};
        const decoded = this.decodeString();
        this.text += decoded;
        return {text: decoded, calls: []};
    }

    /** A cut answer keeps no calls when it was cut before its first key. */
    finish(): {text: string, toolCalls: ToolCall[]} {
        return {text: this.text, toolCalls: [...this.calls]};
    }

    private readCalls(text: string): ToolCall[] {
        const closed = this.scanner!.push(text);
        this.calls.push(...closed);
        return closed;
    }

    /** Decodes the response string from `cursor` up to its end or to an escape that is not complete yet. */
    private decodeString(): string {
        let out = "";
        const raw = this.raw;
        let at = this.cursor;
        while (at < raw.length) {
            const char = raw[at]!;
            if (char === "\"") {
                this.closed = true;
                at++;
                break;
            }
            if (char !== "\\") {
                out += char;
                at++;
                continue;
            }
            const escape = escapeAt(raw, at);
            if (escape == null) break;
            out += escape.text;
            at += escape.length;
        }
        this.cursor = at;
        return out;
    }
}

const simpleEscapes: Record<string, string> = {"\"": "\"", "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t"};

/** The escape at `at` (a backslash) and its length, or undefined while it is incomplete (a surrogate pair waits for its second half). */
function escapeAt(raw: string, at: number): {text: string, length: number} | undefined {
    const kind = raw[at + 1];
    if (kind == null) return undefined;
    if (kind !== "u") return {text: simpleEscapes[kind] ?? kind, length: 2};
    const hex = raw.slice(at + 2, at + 6);
    if (hex.length < 4) return undefined;
    const code = Number.parseInt(hex, 16);
    if (code >= 0xd800 && code <= 0xdbff) {
        const low = raw.slice(at + 6, at + 12);
        if (low.length < 6) return undefined;
        if (low.startsWith("\\u")) return {text: String.fromCharCode(code, Number.parseInt(low.slice(2), 16)), length: 12};
    }
    return {text: String.fromCharCode(code), length: 6};
}
