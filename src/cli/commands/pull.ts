import {loadCatalog} from "../../models/catalog.js";
import {pullModel, remoteUrlOf, type PullEvent, type PullResult, type PullTarget} from "../../models/download.js";
import {findFineTune} from "../../models/fineTunes.js";
import {formatBytes} from "../../models/formatBytes.js";
import {parseModelSpec} from "../../models/resolveName.js";
import {storePathFor} from "../../models/store.js";
import {UsageError} from "../../errors.js";
import {interruptController} from "../interrupt.js";
import {startProgress, type ProgressDisplay} from "../ui/progress.js";
import {writeJson, writeOut} from "../ui/stdout.js";
import {logLine} from "../ui/terminal.js";

export type PullOptions = {json?: boolean, reuse?: boolean, verbose?: boolean};

/** `mixtral pull <name>`: download (or find) a model, verify it, print its path on stdout. */
export async function runPull(name: string, options: PullOptions) {
    const fineTune = findFineTune(name, loadCatalog());
    if (fineTune != null) {
        const {runPullFineTune} = await import("./pullFineTune.js");
        return runPullFineTune(fineTune, options);
    }
    const spec = parseModelSpec(name, loadCatalog());
    if (spec.kind === "path") throw new UsageError(`${name} is a local path; there is nothing to pull.`, {hint: "Pass a catalog name (see `mixtral models`), hf:<owner>/<repo>/<file>.gguf or an https URL."});
    // The URL never carries HF_TOKEN (it travels in a header), so it is safe to show.
    if (options.verbose === true) logLine(`from ${remoteUrlOf(spec)}\nto   ${storePathFor(spec)}`);
    const interrupt = interruptController();
    try {
        const result = await pullWithProgress(spec, {signal: interrupt.signal, reuse: options.reuse});
        if (options.json === true) writeJson({name: spec.kind === "catalog" ? spec.entry.name : spec.label, ...result});
        else writeOut(result.path + "\n");
    } finally {
        interrupt.dispose();
    }
}

/** Downloads run for minutes: in logs, a line every few seconds shows they are alive. */
const plainProgressEveryMs = 3000;

/** Pulls with a progress bar (TTY) or a plain line every few seconds (pipes, CI) on stderr. */
export async function pullWithProgress(target: PullTarget, options: {signal?: AbortSignal, reuse?: boolean}): Promise<PullResult> {
    const label = target.kind === "catalog" ? target.entry.name : target.file;
    let display: ProgressDisplay | undefined;
    // A bar is stopped before any line is logged, so the line does not land inside the bar.
    const hide = () => {
        display?.stop();
        display = undefined;
    };
    const show = (title: string) => {
        hide();
        display = startProgress(title, {plainEveryMs: plainProgressEveryMs});
    };
    const onEvent = (event: PullEvent) => {
        switch (event.type) {
            case "waiting":
                logLine(`Another mixtral (pid ${event.holder.pid}) is downloading ${label}; waiting for it to finish…`);
                break;
            case "verifyingCopy":
                hide();
                logLine(`Found ${label} in the ${event.copy.source} (${event.copy.path}); verifying it instead of downloading…`);
                show("Verifying");
                break;
            case "start":
                hide();
                logLine(`Downloading ${label}` + (event.bytes != null ? ` (${formatBytes(event.bytes)})` : "") +
                    (event.resumeFrom > 0 ? `, resuming at ${formatBytes(event.resumeFrom)}` : ""));
                show("Downloading");
                break;
            case "progress":
                display?.update(event.totalBytes > 0 ? event.downloadedBytes / event.totalBytes : 0, transferDetail(event));
                break;
            case "retry":
                hide();
                logLine(`Transfer trouble (${event.reason}); retrying in ${(event.delayMs / 1000).toFixed(1)} s (attempt ${event.attempt + 1})…`);
                show("Downloading");
                break;
            case "verifying":
                show("Verifying sha256");
                break;
            case "hashProgress":
                display?.update(event.totalBytes > 0 ? event.hashedBytes / event.totalBytes : 1, `${formatBytes(event.hashedBytes)} / ${formatBytes(event.totalBytes)}`);
                break;
            case "unverified":
                hide();
                logLine(`warning: ${event.reason}.`);
                break;
        }
    };
    try {
        const result = await pullModel(target, {signal: options.signal, onEvent, reuse: options.reuse});
        hide();
        if (result.alreadyPresent) logLine(`${label} is ready.`);
        else if (result.reusedFrom != null) logLine(`${label} verified (sha256 ${result.sha256 ?? "?"}) and linked from the ${result.reusedFrom.source}.`);
        else logLine(`${label} downloaded and verified` + (result.sha256 != null ? ` (sha256 ${result.sha256}).` : "."));
        return result;
    } finally {
        hide();
    }
}

function transferDetail(event: Extract<PullEvent, {type: "progress"}>) {
    const parts = [`${formatBytes(event.downloadedBytes)} / ${formatBytes(event.totalBytes)}`];
    if (event.bytesPerSecond > 0) {
        parts.push(`${formatBytes(event.bytesPerSecond)}/s`);
        const seconds = Math.max(0, (event.totalBytes - event.downloadedBytes) / event.bytesPerSecond);
        parts.push(`ETA ${formatDuration(seconds)}`);
    }
    return parts.join(", ");
}

function formatDuration(seconds: number) {
    if (!Number.isFinite(seconds)) return "?";
    const s = Math.round(seconds);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
