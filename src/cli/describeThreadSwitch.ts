import type {ThreadSwitchEvent} from "../engine/index.js";

/** --verbose's line for a change of the thread count of generated tokens (see engine/native/tokenThreadChooser.ts). */
export function describeThreadSwitch(change: ThreadSwitchEvent): string {
    const what = change.width === 1 ? "generation" : `generation of ${change.width} streams together`;
    const timed = change.fromMs != null && change.toMs != null
        ? ` (a token took ${formatMs(change.fromMs)} at ${change.from}, ${formatMs(change.toMs)} at ${change.to})`
        : "";
    const why = {
        load: "other processes are using the CPU cores",
        collapse: "tokens suddenly took far longer: another process took a core",
        faster: change.to > change.from ? "more threads are faster again" : "fewer threads are faster now"
    }[change.reason];
    return `threads: ${what} ${change.from} → ${change.to}, ${why}${timed}; --threads fixes the count.`;
}

function formatMs(ms: number): string {
    return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(0)} ms`;
}
