/**
 * Server-sent events as the OpenAI API streams them: `data: …` lines, an event ending at a blank
 * line. The parser is fed raw chunks, which may split a line (or a UTF-8 character) anywhere, and
 * yields each event's data; comments (`: keep-alive`), `event:` and `id:` lines are skipped.
 */
export class ServerSentEventParser {
    private pending = "";
    private data: string[] = [];
    private readonly decoder = new TextDecoder("utf-8");

    /** The data of every event completed by this chunk. */
    push(chunk: Uint8Array | string): string[] {
        this.pending += typeof chunk === "string" ? chunk : this.decoder.decode(chunk, {stream: true});
        const events: string[] = [];
        let newline: number;
        while ((newline = this.pending.search(/\r\n|\r|\n/)) >= 0) {
            const line = this.pending.slice(0, newline);
            const separatorLength = this.pending.startsWith("\r\n", newline) ? 2 : 1;
            // A lone \r at the end of the chunk may be the first half of \r\n: wait for more.
            if (separatorLength === 1 && this.pending[newline] === "\r" && newline === this.pending.length - 1) break;
            this.pending = this.pending.slice(newline + separatorLength);
            this.line(line, events);
        }
        return events;
    }

    /** The last event when the stream ended without its blank line. */
    end(): string[] {
        const events: string[] = [];
        this.pending += this.decoder.decode();
        if (this.pending !== "") this.line(this.pending.replace(/\r$/, ""), events);
        this.pending = "";
        this.line("", events);
        return events;
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
