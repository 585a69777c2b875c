/**
 * How the program ends on a signal, per platform, in one place (bin/mixtral.js repeats the few
 * lines it needs before anything loads). POSIX: by dying of the signal, so a shell sees 128 + n
 * and a decode running in libuv's thread pool does not hold the exit. Windows has no dying of a
 * signal: process.kill of oneself is TerminateProcess with exit code 1, and SIGHUP (the console
 * window closing) makes it throw — so there the exit code is set directly.
 */

/** The signals that end a command: Ctrl+C, kill/systemd/docker stop, a closed terminal, and Windows's Ctrl+Break. */
export const endingSignals = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"] as const;
export type EndingSignal = (typeof endingSignals)[number];

/** Fixed numbers, not os.constants: SIGBREAK has none on Linux, and the codes are the documented ones everywhere. */
const signalNumbers: Record<EndingSignal, number> = {SIGHUP: 1, SIGINT: 2, SIGTERM: 15, SIGBREAK: 21};

/** 130 for Ctrl+C, 143 for SIGTERM, 129 for SIGHUP, 149 for Ctrl+Break. */
export function signalExitCode(signal: EndingSignal): number {
    return 128 + signalNumbers[signal];
}

export type EndingCalls = {
    platform: NodeJS.Platform,
    kill: (pid: number, signal: NodeJS.Signals) => void,
    exit: (code: number) => never
};

const realCalls: EndingCalls = {
    platform: process.platform,
    kill: (pid, signal) => process.kill(pid, signal),
    exit: (code) => process.exit(code)
};

/** Ends the process as interrupted by `signal`. The caller removes its own listeners first. */
export function endBySignal(signal: EndingSignal, calls: EndingCalls = realCalls): never {
    const code = signalExitCode(signal);
    // Windows: no signal to die of (see above); exit with the code a POSIX shell would show.
    if (calls.platform === "win32" || signal === "SIGBREAK") return calls.exit(code);
    calls.kill(process.pid, signal);
    // Only reached when the signal is ignored (SIG_IGN inherited from a shell's `&`).
    return calls.exit(code);
}
