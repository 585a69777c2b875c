import cliProgress from "cli-progress";
import {terminalPolicy, logLine} from "./terminal.js";

export type ProgressDisplay = {
    update(fraction: number, detail?: string): void,
    stop(): void
};

/**
 * A progress bar on stderr when it is a TTY; otherwise a plain line at most every few seconds,
 * so logs of scripted runs show movement without a flood (or nothing, with plainWhenPiped false).
 */
export function startProgress(label: string, {plainEveryMs = 5000, plainWhenPiped = true} = {}): ProgressDisplay {
    const policy = terminalPolicy();
    if (policy.animate) {
        const bar = new cliProgress.SingleBar({
            format: `${label} ${policy.stderrColors.cyan("{bar}")} {percentage}% {detail}`,
            barsize: 30,
            hideCursor: true,
            clearOnComplete: true,
            stream: process.stderr,
            fps: 10
        }, cliProgress.Presets.shades_classic);
        bar.start(1000, 0, {detail: ""});
        return {
            update(fraction, detail = "") {
                bar.update(Math.round(Math.min(1, Math.max(0, fraction)) * 1000), {detail});
            },
            stop() {
                bar.stop();
            }
        };
    }
    if (!plainWhenPiped) return {update() {}, stop() {}};
    // The first plain line waits one interval too: short jobs stay silent in logs.
    let lastPrinted = Date.now();
    return {
        update(fraction, detail = "") {
            const now = Date.now();
            if (now - lastPrinted < plainEveryMs) return;
            lastPrinted = now;
            logLine(`${label} ${(fraction * 100).toFixed(0)}%${detail === "" ? "" : " " + detail}`);
        },
        stop() {}
    };
}
