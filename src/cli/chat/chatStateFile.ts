import {stat} from "node:fs/promises";
import path from "node:path";
import type {ChatSnapshot} from "../../generator/textGenerator.js";
import type {ConversationKvState} from "../../generator/textGenerator.js";
import type {ChatConversation} from "../../generator/textGenerator.js";
import {UsageError} from "../../errors.js";
import {formatBytes} from "../../formatBytes.js";
import {windowsPathProblem} from "../../windowsPaths.js";
import {counted} from "./turnReport.js";
import {loadConversation, saveConversation} from "./conversationFile.js";

/**
 * /save writes the conversation as JSON and the sequence's KV state beside it (`talk.json` →
 * `talk.kvstate`), so /load and --resume continue without evaluating the conversation again: on a
 * CPU or a Mac, minutes for a long chat with Mixtral, against milliseconds to read the state.
 * A state is only loaded into the same model file with the same context settings (node-llama-cpp
 * warns that a state from another model can crash the process); otherwise the conversation is
 * evaluated on the next message, as it always was. A conversation with a server (--endpoint) has
 * no state here: /save and /load handle its JSON only.
 */

/** What a state must match to be loaded: the model file (path, size, mtime) and the context settings. */
export type StateIdentity = {
    model: {path: string, bytes: number, mtimeMs: number},
    /** expertsUsed: --experts when not the file's own (absent: the file's). */
    context: {size: number, typeK: string, typeV: string, flashAttention: string, expertsUsed?: number}
};

/** The JSON's `kvState` record. */
type SavedState = StateIdentity & {file: string, windowStart: number, answerTokens: Record<string, number[]>, tokens: number[]};

async function stateIdentityOf(owner: ConversationKvState["owner"]): Promise<StateIdentity> {
    const modelPath = path.resolve(owner.modelPath);
    const info = await stat(modelPath);
    return {
        model: {path: modelPath, bytes: info.size, mtimeMs: Math.trunc(info.mtimeMs)},
        context: {size: owner.contextSize, typeK: owner.typeK, typeV: owner.typeV, flashAttention: owner.flashAttention,
            ...(owner.expertsUsed == null ? {} : {expertsUsed: owner.expertsUsed})}
    };
}

/** `talk.json` → `talk.kvstate`; any other name gets `.kvstate` added. */
export function stateFileFor(jsonFile: string): string {
    return jsonFile.toLowerCase().endsWith(".json") ? `${jsonFile.slice(0, -".json".length)}.kvstate` : `${jsonFile}.kvstate`;
}

/** /save: the state first, so a JSON that names a state never points at a missing one. Returns the line to show. */
export async function saveChat(file: string, session: ChatConversation, platform: NodeJS.Platform = process.platform): Promise<string> {
    const problem = windowsPathProblem(file, platform);
    if (problem != null) throw new UsageError(`Cannot save to ${file}: ${problem}.`, {hint: "Give the file another name."});
    const messages = counted(session.history.length, "message");
    const kvState = session.kvState;
    const stateFile = stateFileFor(file);
    // Named here, before the KV state (written first) would name its own file in the error.
    const folder = path.dirname(path.resolve(file));
    const folderIsThere = await stat(folder).then((info) => info.isDirectory(), () => false);
    if (!folderIsThere)
        throw new UsageError(`Cannot save to ${file}: the folder ${folder} does not exist.`, {hint: "Create it first, or give a path in an existing folder."});
    let stateBytes = 0;
    try {
        if (kvState != null) stateBytes = await kvState.save(stateFile);
    } catch (error) {
        throw new UsageError(`Could not write ${stateFile}.`, {hint: "Check that its folder exists and is writable.", cause: error});
    }
    const snapshot = kvState?.snapshot();
    if (kvState == null || snapshot == null || stateBytes === 0 || snapshot.contextTokens.length === 0) {
        await saveConversation(file, session.systemPrompt, session.history);
        return `saved ${messages} to ${file}`;
    }
    const identity = await stateIdentityOf(kvState.owner);
    const record: SavedState = {
        file: path.basename(stateFile), ...identity,
        windowStart: snapshot.windowStart, answerTokens: snapshot.answerTokens, tokens: snapshot.contextTokens
    };
    await saveConversation(file, session.systemPrompt, session.history, record);
    // formatBytes: a small state is kB, where MiB rounding said "0 MiB".
    return `saved ${messages} to ${file} and their KV state (${counted(snapshot.contextTokens.length, "token")}, ${formatBytes(stateBytes)}) to ${stateFile}`;
}

/** /load and --resume: with the KV state when everything matches, else as text. Returns the line to show. */
export async function loadChat(file: string, session: ChatConversation): Promise<string> {
    const loaded = await loadConversation(file);
    const count = `${counted(loaded.messages.length, "message")} from ${file}`;
    const kvState = session.kvState;
    if (kvState == null) {
        // Through a server: the whole conversation goes with each request anyway.
        session.replace(loaded.system, loaded.messages);
        return `loaded ${count}`;
    }
    const evaluate = (why: string) => {
        session.replace(loaded.system, loaded.messages);
        return `loaded ${count}; ${why}, so they are evaluated with the next message`;
    };
    if (loaded.kvState == null) return evaluate("no KV state was saved with them");
    const identity = await stateIdentityOf(kvState.owner);
    const saved = parseSavedState(loaded.kvState);
    if (saved == null) return evaluate("its KV state record is not one mixtral wrote");
    const mismatch = identityMismatch(saved, identity);
    if (mismatch != null) return evaluate(`the KV state was saved ${mismatch}`);
    const stateFile = path.join(path.dirname(file), saved.file);
    if (await stat(stateFile).then(() => false, () => true)) return evaluate(`its KV state file ${stateFile} is missing`);
    const snapshot: ChatSnapshot = {windowStart: saved.windowStart, answerTokens: saved.answerTokens, contextTokens: saved.tokens};
    if (!await kvState.restore(loaded.system, loaded.messages, snapshot, stateFile))
        return evaluate("the KV state does not match the conversation's tokens");
    return `loaded ${count} with their KV state: ${saved.tokens.length} tokens restored, none evaluated again`;
}

/** Says how the saved identity differs ("with another model file"), or undefined when it matches. */
function identityMismatch(saved: StateIdentity, current: StateIdentity): string | undefined {
    if (saved.model.path !== current.model.path) return `with another model file (${saved.model.path})`;
    if (saved.model.bytes !== current.model.bytes || saved.model.mtimeMs !== current.model.mtimeMs) return "with another version of the model file";
    const a = saved.context;
    const b = current.context;
    if (a.size !== b.size) return `with a ${a.size}-token context (now ${b.size})`;
    if (a.typeK !== b.typeK || a.typeV !== b.typeV) return `with a ${a.typeK}/${a.typeV} KV cache (now ${b.typeK}/${b.typeV})`;
    if (a.flashAttention !== b.flashAttention) return `with flash attention ${a.flashAttention} (now ${b.flashAttention})`;
    const experts = (value: number | undefined) => value == null ? "the file's experts" : `--experts ${value}`;
    if (a.expertsUsed !== b.expertsUsed) return `with ${experts(a.expertsUsed)} (now ${experts(b.expertsUsed)})`;
    return undefined;
}

function parseSavedState(value: unknown): SavedState | undefined {
    const record = value as Partial<SavedState> | null;
    const tokenList = (list: unknown) => Array.isArray(list) && list.every((token) => Number.isInteger(token) && token >= 0);
    if (typeof record !== "object" || record == null || typeof record.file !== "string" || path.basename(record.file) !== record.file) return undefined;
    if (typeof record.model?.path !== "string" || typeof record.model.bytes !== "number" || typeof record.model.mtimeMs !== "number") return undefined;
    if (typeof record.context?.size !== "number" || typeof record.windowStart !== "number" || !tokenList(record.tokens)) return undefined;
    if (typeof record.answerTokens !== "object" || record.answerTokens == null || !Object.values(record.answerTokens).every(tokenList)) return undefined;
    return record as SavedState;
}
