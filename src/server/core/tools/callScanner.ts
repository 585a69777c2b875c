import {randomBytes} from "node:crypto";
import type {ToolCall} from "../../../generator/chatMessages.js";

/**
 * Finds the calls in JSON text as it streams: each object at nesting depth `callDepth` (1: the
 * text is the call itself; 2: the text is a list of calls) that parses as `{"name", "arguments"}`
 * comes out whole the moment it closes, strings and escapes inside it skipped over.
 */
export class CallScanner {
    private raw = "";
    private cursor = 0;
    private depth = 0;
    private inString = false;
    private escaped = false;
    private callStart = -1;

    constructor(private readonly callDepth: number) {}

    /** Takes the next piece of the JSON text; returns the calls it closes. */
    push(piece: string): ToolCall[] {
        this.raw += piece;
        const closed: ToolCall[] = [];
        const raw = this.raw;
        for (; this.cursor < raw.length; this.cursor++) {
            const char = raw[this.cursor]!;
            if (this.inString) {
                if (this.escaped) this.escaped = false;
                else if (char === "\\") this.escaped = true;
                else if (char === "\"") this.inString = false;
                continue;
            }
            if (char === "\"") this.inString = true;
            else if (char === "{" || char === "[") {
                this.depth++;
                if (char === "{" && this.depth === this.callDepth) this.callStart = this.cursor;
            } else if (char === "}" || char === "]") {
                if (char === "}" && this.depth === this.callDepth && this.callStart >= 0) {
                    const call = callOf(raw.slice(this.callStart, this.cursor + 1));
                    if (call != null) closed.push(call);
                    this.callStart = -1;
                }
                this.depth--;
            }
        }
        return closed;
    }
}

/** A call's JSON object (`{"name", "arguments"}`) with an id of its own; undefined when it is not one. */
function callOf(json: string): ToolCall | undefined {
    let parsed: unknown;
    try {
        parsed = JSON.parse(json);
    } catch {
        return undefined;
    }
    const {name, arguments: args} = (parsed ?? {}) as {name?: unknown, arguments?: unknown};
    if (typeof name !== "string") return undefined;
    return {id: `call_${randomBytes(12).toString("hex")}`, name, arguments: args ?? {}};
}
