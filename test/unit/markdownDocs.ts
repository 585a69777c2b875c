/**
 * Reading README.md and docs/ as a user would run them: the fenced shell blocks, the shell commands in
 * them, each `mixtral …` command parsed by the real command registry (without running it), and the
 * relative links with their anchors. Used by docsCommands.test.ts and docsLinks.test.ts.
 */
import {CommanderError, type Command} from "commander";
import fs from "node:fs";
import path from "node:path";
import {pathToFileURL} from "node:url";
import {repoRoot} from "../e2e/helpers/runCli.js";

/** README.md and every Markdown file under docs/, relative to the repository root. */
export function markdownFiles(): string[] {
    const files = ["README.md"];
    const walk = (folder: string) => {
        for (const entry of fs.readdirSync(path.join(repoRoot, folder), {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
            const relative = path.join(folder, entry.name);
            if (entry.isDirectory()) walk(relative);
            else if (entry.name.endsWith(".md")) files.push(relative);
        }
    };
    if (fs.existsSync(path.join(repoRoot, "docs"))) walk("docs");
    return files;
}

export type FencedBlock = {info: string, body: string, /** 1-based line of the block's first body line */ line: number};

/** The fenced code blocks (``` or ~~~) of a Markdown text. */
export function fencedBlocks(text: string): FencedBlock[] {
    const blocks: FencedBlock[] = [];
    const lines = text.split("\n");
    for (let index = 0; index < lines.length; index++) {
        const open = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/.exec(lines[index]!);
        if (open == null) continue;
        const fence = open[1]!;
        const start = index + 1;
        let end = start;
        while (end < lines.length && !lines[end]!.trimStart().startsWith(fence)) end++;
        blocks.push({info: open[2]!.toLowerCase(), body: lines.slice(start, end).join("\n"), line: start + 1});
        index = end;
    }
    return blocks;
}

/** The Markdown text with its fenced blocks blanked (lines kept, so line numbers hold). */
function withoutFences(text: string): string {
    let fence: string | null = null;
    return text.split("\n").map((line) => {
        const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
        if (fence != null) {
            if (line.trimStart().startsWith(fence)) fence = null;
            return "";
        }
        if (marker != null) fence = marker;
        return marker != null ? "" : line;
    }).join("\n");
}

/** The Markdown text with fenced blocks and inline code spans blanked (for finding links). */
export function proseOf(text: string): string {
    return withoutFences(text).replace(/(`+)[^`][\s\S]*?\1/g, (span) => span.replace(/[^\n]/g, ""));
}

/** Blocks whose commands are checked: the shell ones. REPL sessions and output go in ```text. */
export const shellBlockInfos = new Set(["sh", "bash", "shell", "zsh"]);

export type ShellCommand = {words: string[], /** 1-based line within the parsed text */ line: number};

const shellKeywords = new Set(["do", "then", "else", "elif", "if", "while", "until", "time", "!", "$"]);

/**
 * The simple commands of a shell script, as far as documentation needs: quotes, `\` continuations,
 * `#` comments, `;` `&` `|` `&&` `||` and newlines between commands, redirections (`> out`, `2>&1`,
 * `< "$f"`) dropped with their targets, here-documents skipped, and the commands inside `$(…)` listed
 * too (the substitution itself stays one word). Leading `NAME=value` assignments, keywords such as
 * `do` and a `$ ` prompt are dropped, so `words[0]` is the program.
 */
export function shellCommands(script: string, firstLine = 1): ShellCommand[] {
    const commands: ShellCommand[] = [];
    let words: string[] = [];
    let word: string | null = null;
    let line = firstLine;
    let commandLine = line;
    let dropNextWord = false;
    let heredocNext = false;
    const heredocs: {delimiter: string, stripTabs: boolean}[] = [];
    let stripTabs = false;

    const endWord = () => {
        if (word == null) return;
        if (heredocNext) heredocs.push({delimiter: word, stripTabs});
        else if (!dropNextWord) {
            if (words.length === 0) commandLine = line;
            words.push(word);
        }
        dropNextWord = heredocNext = false;
        word = null;
    };
    const endCommand = () => {
        endWord();
        while (words.length > 0 && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!) || shellKeywords.has(words[0]!))) words.shift();
        if (words.length > 0) commands.push({words, line: commandLine});
        words = [];
    };
    const append = (text: string) => { word = (word ?? "") + text; };
    /** `$(` at index: returns the index of its `)`, listing the commands inside. */
    const substitution = (index: number): number => {
        let depth = 1;
        let quote: string | null = null;
        let cursor = index + 2;
        for (; cursor < script.length && depth > 0; cursor++) {
            const char = script[cursor]!;
            if (quote != null) {
                if (char === quote) quote = null;
                else if (char === "\\" && quote === "\"") cursor++;
            } else if (char === "'" || char === "\"") quote = char;
            else if (char === "\\") cursor++;
            else if (char === "(") depth++;
            else if (char === ")") depth--;
        }
        const inner = script.slice(index + 2, cursor - 1);
        commands.push(...shellCommands(inner, line));
        append(script.slice(index, cursor));
        line += inner.split("\n").length - 1;
        return cursor - 1;
    };

    for (let index = 0; index < script.length; index++) {
        const char = script[index]!;
        const next = script[index + 1];
        if (char === "\\") {
            if (next === "\n") line++;
            else if (next != null) append(next);
            index++;
        } else if (char === "'") {
            const close = script.indexOf("'", index + 1);
            const end = close < 0 ? script.length : close;
            append(script.slice(index + 1, end));
            line += script.slice(index + 1, end).split("\n").length - 1;
            index = end;
        } else if (char === "\"") {
            let text = "";
            index++;
            for (; index < script.length && script[index] !== "\""; index++) {
                const inner = script[index]!;
                if (inner === "\\" && script[index + 1] === "\n") {
                    index++;
                    line++;
                } else if (inner === "\\" && "\"\\$`".includes(script[index + 1] ?? "")) {
                    text += script[++index];
                } else if (inner === "$" && script[index + 1] === "(") {
                    append(text);
                    text = "";
                    index = substitution(index);
                } else {
                    if (inner === "\n") line++;
                    text += inner;
                }
            }
            append(text);
        } else if (char === "$" && next === "(") {
            index = substitution(index);
        } else if (char === "#" && word == null) {
            while (index + 1 < script.length && script[index + 1] !== "\n") index++;
        } else if (char === ">" || char === "<" || (char === "&" && next === ">")) {
            if (word != null && /^\d+$/.test(word)) word = null;
            endWord();
            let operator = char;
            while (index + 1 < script.length && "<>&-".includes(script[index + 1]!) && operator.length < 3) operator += script[++index];
            if (operator.startsWith("<<") && operator !== "<<<") {
                heredocNext = true;
                stripTabs = operator === "<<-";
            } else if (/&$/.test(operator) && /\d|-/.test(script[index + 1] ?? "")) {
                index++; // 2>&1, >&-
            } else dropNextWord = true;
        } else if (char === "\n") {
            endCommand();
            line++;
            for (const heredoc of heredocs.splice(0)) {
                while (index + 1 < script.length) {
                    const end = script.indexOf("\n", index + 1);
                    const bodyLine = script.slice(index + 1, end < 0 ? script.length : end);
                    index = end < 0 ? script.length : end;
                    line++;
                    if ((heredoc.stripTabs ? bodyLine.replace(/^\t+/, "") : bodyLine) === heredoc.delimiter) break;
                }
            }
        } else if (char === ";" || char === "&" || char === "|" || char === "(" || char === ")") {
            endCommand();
            if ((char === "&" || char === "|" || char === ";") && next === char) index++;
        } else if (char === " " || char === "\t") {
            endWord();
        } else append(char);
    }
    endCommand();
    return commands;
}

export type DocumentedCommand = {file: string, line: number, words: string[]};

/** Every `mixtral …` command of the shell blocks of README.md and docs/. */
export function documentedCommands(files = markdownFiles()): DocumentedCommand[] {
    const found: DocumentedCommand[] = [];
    for (const file of files) {
        const text = fs.readFileSync(path.join(repoRoot, file), "utf8");
        for (const block of fencedBlocks(text).filter((block) => shellBlockInfos.has(block.info)))
            for (const command of shellCommands(block.body, block.line))
                if (command.words[0] === "mixtral") found.push({file, line: command.line, words: command.words});
    }
    return found;
}

/** The first module under dist/src/cli that exports `name` (files there may move; the export stays). */
async function distExport<T>(name: string): Promise<T> {
    const folder = path.join(repoRoot, "dist", "src", "cli");
    const candidates = fs.readdirSync(folder, {recursive: true, encoding: "utf8"}).filter((file) => file.endsWith(".js"));
    for (const file of candidates) {
        const full = path.join(folder, file);
        if (fs.readFileSync(full, "utf8").includes(`export function ${name}(`))
            return ((await import(pathToFileURL(full).href)) as Record<string, T>)[name]!;
    }
    throw new Error(`no module under dist/src/cli exports ${name}; run \`npm run build\``);
}

class ParsedWithoutErrors extends Error {}

type ArgvRewrite = (argv: readonly string[]) => string[];

/**
 * A checker of `mixtral` argument lists against the built command registry: each is parsed by
 * commander exactly as bin/mixtral.js parses it (llama.cpp's `-ctk`/`-ctv`/`-fa` spellings and
 * `--lora-scaled <file> <scale>` rewritten first), and stopped just before the command's action runs.
 * Resolves to null when commander accepts the line, else to commander's error message (an unknown
 * command or flag, a value its choices or parser refuse, a missing or an extra argument).
 */
export async function registryParser(): Promise<(args: readonly string[]) => Promise<string | null>> {
    const {buildProgram} = await import(pathToFileURL(path.join(repoRoot, "dist", "src", "cli", "program.js")).href) as {buildProgram: () => Command};
    const expandAliases = await distExport<ArgvRewrite>("expandLlamaCppFlagAliases");
    const joinLoraScaled = await distExport<ArgvRewrite>("joinLoraScaledArguments");
    return async (args) => {
        const program = buildProgram();
        const silence = (command: Command) => {
            command.configureOutput({writeOut: () => {}, writeErr: () => {}});
            command.commands.forEach(silence);
        };
        silence(program);
        program.hook("preAction", () => { throw new ParsedWithoutErrors(); });
        try {
            await program.parseAsync(joinLoraScaled(expandAliases(["node", "mixtral", ...args])));
            return "the command ran without reaching an action";
        } catch (error) {
            if (error instanceof ParsedWithoutErrors) return null;
            if (error instanceof CommanderError)
                return ["commander.helpDisplayed", "commander.help", "commander.version"].includes(error.code) ? null : error.message;
            throw error;
        }
    };
}

/** GitHub's anchor of a heading: its text lowercased, punctuation dropped, spaces as hyphens. */
export function headingAnchors(text: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    for (const line of withoutFences(text).split("\n")) {
        const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
        if (heading == null) continue;
        const base = heading[1]!
            .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
            .replaceAll("`", "")
            .toLowerCase()
            .replace(/[^\p{L}\p{N}\s_-]/gu, "")
            .replace(/\s/g, "-");
        const count = seen.get(base) ?? 0;
        seen.set(base, count + 1);
        anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    return anchors;
}

export type RelativeLink = {file: string, target: string, line: number};

/** The links of README.md and docs/ that are not URLs: `[text](path#anchor)` and `[text](#anchor)`. */
export function relativeLinks(files = markdownFiles()): RelativeLink[] {
    const links: RelativeLink[] = [];
    for (const file of files) {
        const lines = proseOf(fs.readFileSync(path.join(repoRoot, file), "utf8")).split("\n");
        lines.forEach((text, index) => {
            for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
                const target = match[1]!;
                if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push({file, target, line: index + 1});
            }
        });
    }
    return links;
}

/** Why a relative link is broken, or null. */
export function brokenLink(link: RelativeLink): string | null {
    const [targetPath, anchor] = link.target.split("#") as [string, string | undefined];
    const resolved = targetPath === "" ? path.join(repoRoot, link.file) : path.resolve(repoRoot, path.dirname(link.file), decodeURI(targetPath));
    if (!resolved.startsWith(repoRoot) || !fs.existsSync(resolved)) return `${link.target}: no such file`;
    if (anchor == null || anchor === "" || !resolved.endsWith(".md")) return null;
    return headingAnchors(fs.readFileSync(resolved, "utf8")).has(anchor) ? null : `${link.target}: no heading with the anchor #${anchor}`;
}
