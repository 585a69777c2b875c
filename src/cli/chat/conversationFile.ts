import {writeFile} from "node:fs/promises";
import {readTextFile} from "../../textFile.js";
import type {ChatMessage} from "../../generator/chatMessages.js";
import {UsageError} from "../../errors.js";

/** What /save writes and /load reads. */
export type SavedConversation = {
    format: "mixtral-chat",
    version: 1,
    system: string | null,
    messages: ChatMessage[],
    /** Where the KV state was saved and what it must match to be loaded (see chatStateFile.ts). */
    kvState?: unknown
};

function conversationToJson(system: string | undefined, messages: readonly ChatMessage[], kvState?: unknown): SavedConversation {
    return {
        format: "mixtral-chat", version: 1, system: system ?? null, messages: messages.map(({role, content}) => ({role, content})),
        ...(kvState == null ? {} : {kvState})
    };
}

export async function saveConversation(file: string, system: string | undefined, messages: readonly ChatMessage[], kvState?: unknown) {
    try {
        await writeFile(file, JSON.stringify(conversationToJson(system, messages, kvState), null, 2) + "\n");
    } catch (error) {
        throw new UsageError(`Could not write ${file}.`, {hint: "Check that its folder exists and is writable.", cause: error});
    }
}

export async function loadConversation(file: string): Promise<{system: string | undefined, messages: ChatMessage[], kvState?: unknown}> {
    let text: string;
    try {
        // Opened and saved again by Notepad, or rewritten by PowerShell 5.1: a BOM, or UTF-16.
        text = await readTextFile(file);
    } catch (error) {
        throw new UsageError(`Could not read ${file}.`, {hint: "Check the path; /save <file> writes one.", cause: error});
    }
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        throw new UsageError(`${file} is not JSON.`, {hint: "Load a file written by /save.", cause: error});
    }
    return parseConversation(value, file);
}

/** Checks a loaded conversation: user and assistant messages alternating, starting with the user. */
export function parseConversation(value: unknown, file: string): {system: string | undefined, messages: ChatMessage[], kvState?: unknown} {
    const invalid = (why: string) => new UsageError(`${file} is not a saved conversation: ${why}.`, {hint: "Load a file written by /save."});
    if (typeof value !== "object" || value == null || Array.isArray(value)) throw invalid("expected a JSON object");
    const record = value as Record<string, unknown>;
    if (record.system != null && typeof record.system !== "string") throw invalid("\"system\" must be a string");
    if (!Array.isArray(record.messages)) throw invalid("\"messages\" must be an array");
    const messages = record.messages.map((item: unknown, index): ChatMessage => {
        const message = item as Record<string, unknown> | null;
        const expected = index % 2 === 0 ? "user" : "assistant";
        if (typeof message !== "object" || message == null || message.role !== expected || typeof message.content !== "string")
            throw invalid(`message ${index + 1} must be {"role": "${expected}", "content": "…"}`);
        return {role: expected, content: message.content};
    });
    return {system: typeof record.system === "string" ? record.system : undefined, messages, kvState: record.kvState};
}
