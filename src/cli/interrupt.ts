import os from "node:os";
import {ExitCode} from "../errors.js";

/**
 * Signals that end the program unless a command has taken charge of them. bin/mixtral.js installs
 * the one handler for them before anything loads (Ctrl+C while Node starts) and reads the claims
 * below through a global: it is never removed and replaced, because a signal that arrives while
 * its listener is being swapped is lost (libuv drops it with the stopped watcher).
 */
const endingSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type EndingSignal = (typeof endingSignals)[number];
const earlySignalHandlerKey = Symbol.for("mixtral.earlySignalHandler");
const claimsKey = Symbol.for("mixtral.claimedSignals");
const globals = globalThis as Record<symbol, unknown>;
const claims = (globals[claimsKey] ??= new Map<EndingSignal, number>()) as Map<EndingSignal, number>;

/**
 * A signal nobody claimed exits at once and quietly, 130 for Ctrl+C (128 + n for the others), at
 * every moment: while Node loads, while node-llama-cpp tests its binding, in a command without its
 * own policy (doctor, models). bin/mixtral.js does it; this covers a start without that shim.
 */
export function installSignalPolicy() {
    if (typeof globals[earlySignalHandlerKey] === "function") return;
    for (const signal of endingSignals) {
        process.on(signal, () => {
            if ((claims.get(signal) ?? 0) > 0) return;
            process.exit(signal === "SIGINT" ? ExitCode.interrupted : 128 + os.constants.signals[signal]);
        });
    }
}

/** A command handles `signal` itself until the returned function is called. */
export function claimSignal(signal: EndingSignal): () => void {
    claims.set(signal, (claims.get(signal) ?? 0) + 1);
    let released = false;
    return () => {
        if (released) return;
        released = true;
        claims.set(signal, (claims.get(signal) ?? 1) - 1);
    };
}

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
    const release = claimSignal("SIGINT");
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
            release();
        }
    };
}
