import cliProgress from "cli-progress";
import {terminalPolicy, logLine} from "./terminal.js";

export type ProgressDisplay = {
    update(fraction: number, detail?: string): void,
    stop(): void
};

/**
 * A progress bar on stderr when it is a TTY; otherwise a plain line at most every few seconds,
 * so logs of scripted runs show movement without a flood.
 */
export function startProgress(label: string, {plainEveryMs = 5000} = {}): ProgressDisplay {
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
    let lastPrinted = 0;
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
