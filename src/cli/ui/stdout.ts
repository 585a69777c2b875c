/**
 * Writes results to stdout. A reader that went away (`| head -c 3`) is not an error the user
 * needs to hear about: index.ts turns EPIPE into a quiet exit.
 */
export function writeOut(text: string) {
    if (text.length > 0) process.stdout.write(text);
}

/** One JSON object on one line (JSON Lines): what `complete --json` and `chat --json` print, for `jq -c` and appends. */
export function writeJsonLine(value: unknown) {
    process.stdout.write(JSON.stringify(value) + "\n");
}

export function writeJson(value: unknown) {
    process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** A measurement for JSON output: two decimals are all a millisecond or a tok/s figure means. */
export function roundForJson(value: number): number {
    return Math.round(value * 100) / 100;
}

/** Resolves once everything written to stdout has been handed to the OS. */
export function drainStdout(): Promise<void> {
    return new Promise((resolve) => {
        if (process.stdout.writableLength === 0) resolve();
        else process.stdout.write("", () => resolve());
    });
}
