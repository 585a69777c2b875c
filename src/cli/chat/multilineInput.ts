/**
 * Turns typed lines into messages. A line ending in a backslash continues on the next line; a line
 * that is just `"""` opens a block that the next `"""` line closes (for text with trailing
 * backslashes, code, or anything long). Pasted lines are held (`hold`) until the user presses Enter.
 */
export class MultilineInput {
    private lines: string[] = [];
    private inBlock = false;
    /** The lines as typed (or pasted) for the message being made, `"""` and backslashes included. */
    private typed: string[] = [];
    private lastTyped: string[] = [];
    /** The last line came from `hold` (a paste, or a history entry's first lines). */
    private held = false;

    /** On Windows a line may end in a folder's path (`C:\models\`), which is not a continuation. */
    constructor(private readonly platform: NodeJS.Platform = process.platform) {}

    /** True while a message is being continued: the prompt shows that. */
    get pending(): boolean {
        return this.inBlock || this.lines.length > 0;
    }

    /**
     * Adds a line without sending anything (a pasted line the user has not confirmed yet). It is
     * read as a typed one would be: `"""` lines open and close a block and are dropped, a trailing
     * backslash continues; only the sending waits for Enter.
     */
    hold(line: string) {
        for (const part of line.split("\n")) this.accept(part, false);
    }

    /**
     * Adds a typed line; returns the message when it is complete. A line with newlines in it is a
     * history entry brought back whole (`historyEntry`): its lines are read as typed then, and it
     * is sent as the message it was.
     */
    push(line: string): string | undefined {
        const parts = line.split("\n");
        for (const part of parts.slice(0, -1)) this.accept(part, false);
        return this.accept(parts.at(-1) ?? "", true);
    }

    /**
     * The last message as the one history entry that brings it back: its lines as typed, joined by
     * newlines. Undefined for a message of one line, which is readline's own entry already.
     */
    get historyEntry(): string | undefined {
        return this.lastTyped.length > 1 ? this.lastTyped.join("\n") : undefined;
    }

    private accept(line: string, send: boolean): string | undefined {
        // Enter on an empty line after held (pasted) lines only sends them: not part of the message.
        if (!(send && line === "" && this.held && !this.inBlock)) this.typed.push(line);
        this.held = !send;
        const complete = () => send ? this.take() : undefined;
        if (this.inBlock) {
            if (line.trim() !== '"""') {
                this.lines.push(line);
                return undefined;
            }
            this.inBlock = false;
            return complete();
        }
        const trimmed = line.trim();
        if (trimmed.startsWith('"""')) {
            const rest = trimmed.slice(3);
            // `"""one line"""` is a whole block on one line.
            if (rest.length >= 3 && rest.endsWith('"""')) {
                this.lines.push(rest.slice(0, -3));
                return complete();
            }
            this.inBlock = true;
            if (rest !== "") this.lines.push(rest);
            return undefined;
        }
        if (line.endsWith("\\") && !(this.platform === "win32" && endsWithWindowsFolder(line))) {
            this.lines.push(line.slice(0, -1));
            return undefined;
        }
        if (!send) {
            this.lines.push(line);
            return undefined;
        }
        // Enter on an empty line after held (pasted) lines sends them without an extra blank line.
        if (line !== "" || this.lines.length === 0) this.lines.push(line);
        return this.take();
    }

    /** Ctrl+C while continuing: drops what was typed so far. */
    cancel() {
        this.lines = [];
        this.inBlock = false;
        this.typed = [];
        this.held = false;
    }

    private take(): string {
        const message = this.lines.join("\n");
        this.lines = [];
        this.lastTyped = this.typed;
        this.typed = [];
        return message;
    }
}

/** `… C:\Users\ada\` or `… \\server\share\`: a drive or UNC path whose last backslash ends a folder name. */
function endsWithWindowsFolder(line: string): boolean {
    return /(?:^|[\s"'(])(?:[A-Za-z]:|\\\\[^\\\s]+)\\(?:[^\\\s]+\\)*$/.test(line);
}
