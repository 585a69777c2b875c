import {Chalk, type ChalkInstance} from "chalk";

/**
 * One place decides what the terminal may show: colours only on a TTY without NO_COLOR/--no-color,
 * animation (spinners, bars) only when stderr is a TTY and we are not in CI.
 */
export type TerminalPolicy = {
    /** stderr is an interactive terminal: spinners and progress bars may animate there. */
    animate: boolean,
    colors: ChalkInstance,
    stderrColors: ChalkInstance
};

let noColorFlag = false;

/** Called by the program when `--no-color` is given anywhere. */
export function disableColor() {
    noColorFlag = true;
}

function colorAllowed(stream: NodeJS.WriteStream): boolean {
    if (noColorFlag) return false;
    const noColor = process.env.NO_COLOR;
    if (noColor != null && noColor !== "") return false;
    if (process.env.TERM === "dumb") return false;
    return stream.isTTY === true;
}

export function terminalPolicy(): TerminalPolicy {
    return {
        // A terminal of 0 columns (`script -qc`, `docker exec -t` before a resize) cannot hold a
        // spinner line: ora's redraw never ends there.
        animate: process.stderr.isTTY === true && process.env.CI == null && process.env.TERM !== "dumb" && (process.stderr.columns ?? 0) > 0,
        // chalk's own detection ignores NO_COLOR, so its level is set here.
        colors: new Chalk({level: colorAllowed(process.stdout) ? 1 : 0}),
        stderrColors: new Chalk({level: colorAllowed(process.stderr) ? 1 : 0})
    };
}

/** Everything that is not a result goes to stderr. */
export function logLine(text: string) {
    process.stderr.write(text + "\n");
}

/** A failure as the user sees it: one sentence, then what to do about it when we know. */
export function logError(message: string, hint?: string) {
    const colors = terminalPolicy().stderrColors;
    logLine(`${colors.red("error:")} ${message}`);
    if (hint != null) logLine(`${colors.dim("hint:")} ${hint}`);
}
