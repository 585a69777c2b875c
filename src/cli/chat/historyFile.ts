import {mkdirSync, writeFileSync} from "node:fs";
import {readFile} from "node:fs/promises";
import {mixtralFolder, thisSystem} from "../../userFolders.js";
import path from "node:path";

/** The system's config folder (userFolders.ts): ~/.config/mixtral, ~/Library/Application Support/mixtral, %APPDATA%\mixtral. */
function configDirectory(env: NodeJS.ProcessEnv = process.env): string {
    return mixtralFolder("config", thisSystem(env));
}

export function chatHistoryPath(env: NodeJS.ProcessEnv = process.env): string {
    return path.join(configDirectory(env), "chat_history");
}

export const historySize = 1000;

/**
 * The prompt history, newest first as readline wants it. One JSON string a line (oldest first) so
 * entries with backslashes or odd characters survive; a missing or damaged file is an empty history.
 */
export async function readHistory(file: string): Promise<string[]> {
    let text: string;
    try {
        text = await readFile(file, "utf8");
    } catch {
        return [];
    }
    const entries: string[] = [];
    for (const line of text.split("\n")) {
        try {
            const entry: unknown = JSON.parse(line);
            if (typeof entry === "string" && entry !== "") entries.push(entry);
        } catch {
            // A line cut by a crash or edited by hand: skip it, keep the rest.
        }
    }
    return entries.slice(-historySize).reverse();
}

/**
 * Saves readline's history (newest first) after each line, synchronously so an exit right after
 * cannot lose it. Failing to save history must never end a chat.
 */
export function writeHistory(file: string, newestFirst: readonly string[]): boolean {
    try {
        mkdirSync(path.dirname(file), {recursive: true});
        const lines = newestFirst.slice(0, historySize).reverse().map((entry) => JSON.stringify(entry));
        writeFileSync(file, lines.join("\n") + "\n", {mode: 0o600});
        return true;
    } catch {
        return false;
    }
}
