import type {ChatTurn} from "../../generator/textGenerator.js";
import {roundForJson} from "../ui/stdout.js";

/** The object `--json` prints for each turn, one per line. */
export function turnJson(turn: ChatTurn) {
    return {
        role: "assistant" as const,
        content: turn.content,
        stopReason: turn.stopReason,
        ...(turn.complete == null ? {} : {complete: turn.complete}),
        // A context size of 0 is a server that does not say (null in JSON).
        tokens: {prompt: turn.tokens.prompt, generated: turn.tokens.generated, context: turn.context.used, contextSize: turn.context.size === 0 ? null : turn.context.size},
        timings: {
            promptMs: roundForJson(turn.timings.promptMs),
            firstTokenMs: roundForJson(turn.timings.firstTokenMs),
            generateMs: roundForJson(turn.timings.generateMs),
            generatedTokensPerSecond: roundForJson(turn.timings.generatedTokensPerSecond)
        }
    };
}

/** What the user must know about the context after a turn (the REPL and piped chat style them). */
export function contextNotes(turn: ChatTurn): string[] {
    const notes: string[] = [];
    const dropped = turn.droppedExchanges;
    if (dropped > 0) notes.push(`the context was full: the oldest ${dropped} exchange${dropped === 1 ? " was" : "s were"} left out`);
    if (turn.stopReason === "contextFull") notes.push("the context is full: the answer was cut; the oldest exchanges will be left out from the next turn");
    return notes;
}

/** "1 answer", "2 answers": a count with its noun (the last word takes the plural). */
export function counted(count: number, noun: string): string {
    return `${count} ${count === 1 ? noun : `${noun}s`}`;
}

/** What --verbose prints after each answer. */
export function formatTimings(turn: ChatTurn): string {
    return `${counted(turn.tokens.prompt, "new prompt token")}, first token after ${turn.timings.firstTokenMs.toFixed(0)} ms; ` +
        `${turn.tokens.generated} generated at ${turn.timings.generatedTokensPerSecond.toFixed(1)} tok/s; ` +
        `context ${turn.context.used}${turn.context.size === 0 ? "" : `/${turn.context.size}`} (stop: ${turn.stopReason})`;
}

export type SessionTotals = {turns: number, promptTokens: number, generatedTokens: number, generateMs: number};

export function addToTotals(totals: SessionTotals, turn: ChatTurn) {
    totals.turns++;
    totals.promptTokens += turn.tokens.prompt;
    totals.generatedTokens += turn.tokens.generated;
    totals.generateMs += turn.timings.generateMs;
}

/** /stats: the conversation, the context window, and the speed of the last answer and the session. */
export function formatStats(stats: {messages: number, contextUsed: number, contextSize: number, format: string, last?: ChatTurn, totals: SessionTotals}): string {
    const percent = stats.contextSize > 0 ? Math.round((stats.contextUsed / stats.contextSize) * 100) : 0;
    const lines = [
        `messages      ${stats.messages}`,
        stats.contextSize === 0
            ? `context       ${counted(stats.contextUsed, "token")} (the server's context size is not known)`
            : `context       ${stats.contextUsed} / ${stats.contextSize} tokens (${percent}%)`,
        `prompt format ${stats.format}`
    ];
    if (stats.last != null)
        lines.push(`last answer   ${counted(stats.last.tokens.generated, "token")} at ${stats.last.timings.generatedTokensPerSecond.toFixed(1)} tok/s, ` +
            `first token after ${stats.last.timings.firstTokenMs.toFixed(0)} ms (${counted(stats.last.tokens.prompt, "prompt token")} evaluated)`);
    const sessionSpeed = stats.totals.generateMs > 0 ? stats.totals.generatedTokens / (stats.totals.generateMs / 1000) : 0;
    lines.push(`session       ${counted(stats.totals.turns, "answer")}, ${counted(stats.totals.generatedTokens, "token")} generated (${sessionSpeed.toFixed(1)} tok/s), ` +
        `${counted(stats.totals.promptTokens, "prompt token")} evaluated`);
    return lines.join("\n");
}
