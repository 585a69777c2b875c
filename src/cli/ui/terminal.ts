import {Chalk, type ChalkInstance} from "chalk";

/**
 * One place decides what the terminal may show: colours only on a TTY without NO_COLOR/--no-color
 * (or wherever FORCE_COLOR asks),
 * animation (spinners, bars) only when stderr is a TTY and we are not in CI, questions only when a
 * person can read and answer them.
 */
export type TerminalPolicy = {
    /** stderr is an interactive terminal: spinners and progress bars may animate there. */
    animate: boolean,
    /** A person is at the terminal (stdin and stderr are both TTYs): we may ask a question and wait for the answer. */
    canPrompt: boolean,
    colors: ChalkInstance,
    stderrColors: ChalkInstance
};

let noColorFlag = false;

/** Called by the program when `--no-color` is given anywhere. */
export function disableColor() {
    noColorFlag = true;
}

/**
 * The colour level for a stream: --no-color wins; then FORCE_COLOR (0/false off; 1, 2, 3 or true
 * on, even into a pipe or a file), as Node and chalk read it; then NO_COLOR (https://no-color.org),
 * TERM=dumb, and whether the stream is a terminal.
 */
function colorLevel(stream: NodeJS.WriteStream): 0 | 1 | 2 | 3 {
    if (noColorFlag) return 0;
    const force = process.env.FORCE_COLOR;
    if (force != null && force !== "") {
        if (force === "0" || force.toLowerCase() === "false") return 0;
        const level = Number(force);
        return level === 2 || level === 3 ? level : 1;
    }
    const noColor = process.env.NO_COLOR;
    if (noColor != null && noColor !== "") return 0;
    if (process.env.TERM === "dumb") return 0;
    return stream.isTTY === true ? 1 : 0;
}

export function terminalPolicy(): TerminalPolicy {
    return {
        // A terminal of 0 columns (`script -qc`, `docker exec -t` before a resize) cannot hold a
        // spinner line: ora's redraw never ends there.
        animate: process.stderr.isTTY === true && process.env.CI == null && process.env.TERM !== "dumb" && (process.stderr.columns ?? 0) > 0,
        canPrompt: process.stdin.isTTY === true && process.stderr.isTTY === true,
        // chalk's own detection ignores NO_COLOR, so its level is set here.
        colors: new Chalk({level: colorLevel(process.stdout)}),
        stderrColors: new Chalk({level: colorLevel(process.stderr)})
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

/**
 * Git Bash's terminal (mintty) is not a Windows console: Node sees pipes, not a TTY, so `chat`
 * reads one message from standard input and looks hung. Said once on stderr there; undefined elsewhere.
 */
export function minttyNote(stdinIsTTY: boolean, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
    if (platform !== "win32" || stdinIsTTY || env.MSYSTEM == null || env.MSYSTEM === "") return undefined;
    return "note: Git Bash's window is not a Windows console, so chat reads one message from standard input until Ctrl+D; " +
        "for the interactive chat run `winpty mixtral chat`, or use Windows Terminal or PowerShell.";
}
