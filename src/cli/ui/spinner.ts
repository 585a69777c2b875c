import ora from "ora";
import {logLine, terminalPolicy} from "./terminal.js";

export type Spinner = {succeed(text?: string): void, fail(text?: string): void, stop(): void, set text(value: string)};

/** An ora spinner on stderr on a TTY; one plain line (only with `verbose`) otherwise. */
export function startSpinner(text: string, {verbose = false} = {}): Spinner {
    const policy = terminalPolicy();
    if (policy.animate) {
        // ora colours through chalk's own detection, which ignores NO_COLOR: our policy decides.
        const colors = policy.stderrColors;
        const spinner = ora({text, stream: process.stderr, color: colors.level > 0 ? "cyan" : false}).start();
        return {
            succeed: (t) => void spinner.stopAndPersist({symbol: colors.green("✔"), text: t}),
            fail: (t) => void spinner.stopAndPersist({symbol: colors.red("✖"), text: t}),
            stop: () => void spinner.stop(),
            set text(value: string) {
                spinner.text = value;
            }
        };
    }
    if (verbose) logLine(text);
    return {
        succeed: (t) => {
            if (verbose && t != null) logLine(t);
        },
        fail: (t) => {
            if (t != null) logLine(t);
        },
        stop: () => {},
        set text(value: string) {
            void value;
        }
    };
}
