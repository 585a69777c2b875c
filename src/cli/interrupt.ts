import {ExitCode} from "../errors.js";

/**
 * Ctrl+C policy: the first press aborts the current work through the returned signal (the command
 * decides what that means: stop an answer, keep a partial download); a second press exits at once.
 */
export function interruptController(options: {beforeExit?: () => void} = {}): {signal: AbortSignal, reset(): AbortSignal, dispose(): void} {
    let controller = new AbortController();
    const onSigint = () => {
        if (controller.signal.aborted) {
            // Last words that keep the output usable (bench closes its JSON array); stdout to a
            // file or a pipe is written synchronously on POSIX, so it lands before the exit.
            options.beforeExit?.();
            process.exit(ExitCode.interrupted);
        }
        controller.abort(new Error("Interrupted"));
    };
    process.on("SIGINT", onSigint);
    return {
        get signal() {
            return controller.signal;
        },
        /** A fresh signal for the next unit of work (chat's next answer). */
        reset() {
            controller = new AbortController();
            return controller.signal;
        },
        dispose() {
            process.off("SIGINT", onSigint);
        }
    };
}
