import {endBySignal, endingSignals, type EndingSignal} from "./platformSignals.js";

/** How long complete and bench wait, after the first Ctrl+C, for the work to stop by itself: a normal token takes far less. */
export const stopGraceMs = 2000;

export type InterruptOptions = {
    /**
     * Last words that keep the output usable (bench closes its JSON array) before an exit at once;
     * stdout to a file or a pipe is written synchronously on POSIX, so it lands before the exit.
     */
    beforeExit?: () => void,
    /**
     * For commands with nothing to keep (complete, bench): how long the work may take to stop after
     * the first Ctrl+C before the process ends anyway. A decode in llama.cpp cannot be interrupted,
     * and with too many threads one token can take minutes.
     */
    graceMs?: number
};

/**
 * Signals that end the program unless a command has taken charge of them. bin/mixtral.js installs
 * the one handler for them before anything loads (Ctrl+C while Node starts) and reads the claims
 * below through a global: it is never removed and replaced, because a signal that arrives while
 * its listener is being swapped is lost (libuv drops it with the stopped watcher).
 */
const earlySignalHandlerKey = Symbol.for("mixtral.earlySignalHandler");
const claimsKey = Symbol.for("mixtral.claimedSignals");
const globals = globalThis as Record<symbol, unknown>;
const claims = (globals[claimsKey] ??= new Map<EndingSignal, number>()) as Map<EndingSignal, number>;

/**
 * A signal nobody claimed ends the program at once and quietly (a shell shows 128 + n: 130 for Ctrl+C), at
 * every moment: while Node loads, while node-llama-cpp tests its binding, in a command without its
 * own policy (doctor, models). bin/mixtral.js does it; this covers a start without that shim.
 */
export function installSignalPolicy() {
    if (typeof globals[earlySignalHandlerKey] === "function") return;
    for (const signal of endingSignals) {
        process.on(signal, () => {
            if ((claims.get(signal) ?? 0) > 0) return;
            // As exitAtOnce below: dying of the signal does not wait for the thread pool.
            process.removeAllListeners(signal);
            endBySignal(signal);
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
 * decides what that means: stop an answer, keep a partial download); a second press exits at once,
 * as does the first one when the work has not stopped within `graceMs`.
 */
export function interruptController(options: InterruptOptions = {}): {signal: AbortSignal, reset(): AbortSignal, dispose(): void} {
    let controller = new AbortController();
    let graceTimer: NodeJS.Timeout | undefined;
    const onSigint = () => {
        if (controller.signal.aborted) exitAtOnce(options.beforeExit);
        controller.abort(new Error("Interrupted"));
        if (options.graceMs != null) graceTimer = setTimeout(() => exitAtOnce(options.beforeExit), options.graceMs).unref();
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
            clearTimeout(graceTimer);
            process.off("SIGINT", onSigint);
            release();
        }
    };
}

/**
 * Ends the process now, as interrupted. process.exit cannot: exiting joins libuv's thread pool, so
 * it waits for the llama.cpp decode running there (measured: 6 minutes with 128 threads on 2 cores).
 * Dying of SIGINT is immediate, and is how a shell expects an interrupted program to end ($? = 130).
 */
function exitAtOnce(beforeExit: (() => void) | undefined): never {
    try {
        beforeExit?.();
    } finally {
        if (process.stdin.isTTY === true) process.stdin.setRawMode(false);
        process.removeAllListeners("SIGINT");
    }
    // Dies of SIGINT on POSIX; exits 130 on Windows (platformSignals.ts).
    endBySignal("SIGINT");
}
