import {usableCpuCores} from "../hardware/cpuCores.js";
import {logLine, terminalPolicy} from "./ui/terminal.js";

/**
 * --threads above the usable cores makes ggml's threads wait for each other on every token
 * (measured: 8 threads on 2 cores 4× slower, 128 minutes per token): one warning line on stderr,
 * the run goes on as asked.
 */
export function warnAboutThreads(threads: number | readonly number[] | undefined, cores = usableCpuCores()) {
    const asked = typeof threads === "number" ? threads : threads == null || threads.length === 0 ? undefined : Math.max(...threads);
    if (asked == null || asked <= cores) return;
    const {stderrColors} = terminalPolicy();
    logLine(`${stderrColors.yellow("warning:")} --threads ${asked} is more than the ${cores} usable CPU core${cores === 1 ? "" : "s"}; ` +
        `threads beyond the cores only wait for each other, so generation gets much slower (try --threads ${cores}).`);
}
