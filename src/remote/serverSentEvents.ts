/** A line longer than the parser keeps: no OpenAI chunk is near it, so the server is not one. */
export class EventLineTooLong extends Error {
    constructor(readonly limit: number) {
        super(`an event line longer than ${limit / (1024 * 1024)} MiB`);
    }
}

// One chunk of an OpenAI stream is a few hundred bytes (a few kB with logprobs).
const defaultLineLimit = 4 * 1024 * 1024;

/**
 * Server-sent events as the OpenAI API streams them: `data: …` lines, an event ending at a blank
 * line. The parser is fed raw chunks, which may split a line (or a UTF-8 character) anywhere, and
 * yields each event's data; comments (`: keep-alive`), `event:` and `id:` lines are skipped.
 */
export class ServerSentEventParser {
    /**
     * The unfinished line, as the pieces that came: each chunk is scanned once, and joining
     * happens once a line is complete (a string grown and searched per chunk would be re-copied
     * and re-scanned on every chunk of a long line).
     */
    private parts: string[] = [];
    private partsLength = 0;
    /** The last chunk ended in \r: a \n starting the next one is the rest of that line break. */
    private afterCarriageReturn = false;
    private data: string[] = [];
    private readonly decoder = new TextDecoder("utf-8");

    constructor(private readonly lineLimit = defaultLineLimit) {}

    /** The data of every event completed by this chunk; throws EventLineTooLong past the limit. */
    push(chunk: Uint8Array | string): string[] {
        let text = typeof chunk === "string" ? chunk : this.decoder.decode(chunk, {stream: true});
        if (this.afterCarriageReturn && text !== "") {
            this.afterCarriageReturn = false;
            if (text.startsWith("\n")) text = text.slice(1);
        }
        const events: string[] = [];
        const lineBreak = /\r\n|\r|\n/g;
        let start = 0;
        let match: RegExpExecArray | null;
        while ((match = lineBreak.exec(text)) != null) {
            this.line(this.takeLine(text.slice(start, match.index)), events);
            start = match.index + match[0].length;
        }
        if (text.endsWith("\r")) this.afterCarriageReturn = true;
        this.keep(text.slice(start));
        return events;
    }

    /** The last event when the stream ended without its blank line. */
    end(): string[] {
        const events: string[] = [];
        this.keep(this.decoder.decode());
        if (this.partsLength > 0) this.line(this.takeLine(""), events);
        this.afterCarriageReturn = false;
        this.line("", events);
        return events;
    }

    private keep(text: string) {
        if (text === "") return;
        this.parts.push(text);
        this.partsLength += text.length;
        if (this.partsLength > this.lineLimit) throw new EventLineTooLong(this.lineLimit);
    }

    private takeLine(last: string): string {
        if (this.partsLength + last.length > this.lineLimit) throw new EventLineTooLong(this.lineLimit);
        const line = this.parts.length === 0 ? last : this.parts.join("") + last;
        this.parts = [];
        this.partsLength = 0;
        return line;
    }

    private line(line: string, events: string[]) {
        if (line === "") {
            if (this.data.length > 0) events.push(this.data.join("\n"));
            this.data = [];
            return;
        }
        if (line.startsWith(":")) return;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        if (field !== "data") return;
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        this.data.push(value);
    }
}
