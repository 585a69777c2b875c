/**
 * Streams text while watching for stop strings that may arrive split across chunks: the tail that
 * could still become a stop string is held back until the next chunk decides it.
 */
export class StopTextFilter {
    private held = "";
    /** The stop string that ended the text, once one did (Anthropic's answers name it). */
    matched: string | undefined;

    constructor(private readonly stops: readonly string[]) {}

    /** Returns the text safe to show now, and whether a stop string was completed. */
    push(chunk: string): {text: string, stopped: boolean} {
        const buffer = this.held + chunk;
        let stopAt = -1;
        for (const stop of this.stops) {
            if (stop === "") continue;
            const index = buffer.indexOf(stop);
            if (index >= 0 && (stopAt < 0 || index < stopAt)) {
                stopAt = index;
                this.matched = stop;
            }
        }
        if (stopAt >= 0) {
            this.held = "";
            return {text: buffer.slice(0, stopAt), stopped: true};
        }
        const keep = this.longestStopPrefixAtEnd(buffer);
        this.held = buffer.slice(buffer.length - keep);
        return {text: buffer.slice(0, buffer.length - keep), stopped: false};
    }

    /** The held-back tail, once generation ends without a stop string. */
    flush(): string {
        const text = this.held;
        this.held = "";
        return text;
    }

    private longestStopPrefixAtEnd(buffer: string): number {
        let longest = 0;
        for (const stop of this.stops) {
            for (let length = Math.min(stop.length - 1, buffer.length); length > longest; length--) {
                if (buffer.endsWith(stop.slice(0, length))) {
                    longest = length;
                    break;
                }
            }
        }
        return longest;
    }
}
