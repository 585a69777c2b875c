import {loraPairs} from "../../adapters/convertPeftAdapter.js";
import type {AcquireEvent} from "../../models/acquisition.js";
import type {PullEvent, PullResult} from "../../models/download.js";
import {formatBytes} from "../../formatBytes.js";
import {startProgress, type ProgressDisplay} from "./progress.js";
import {logLine} from "./terminal.js";
import {formatDuration} from "./formatDuration.js";

/** Downloads run for minutes: in logs, a line every few seconds shows they are alive. */
const plainProgressEveryMs = 3000;

export type PullProgress = {
    onProgress(event: AcquireEvent): void,
    /** Takes the bar down; call it when the acquisition ends, failed or not. */
    stop(): void
};

/**
 * The one renderer of acquisition events (`pull`, and a model fetched for chat, complete, serve or
 * bench): a progress bar (TTY) or a plain line every few seconds (pipes, CI) on stderr, and one
 * line for each step.
 */
export function startPullProgress(): PullProgress {
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
    const onPullEvent = (label: string, event: PullEvent) => {
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
    return {
        onProgress(event) {
            switch (event.type) {
                case "pull":
                    onPullEvent(event.label, event.event);
                    break;
                case "pulled": {
                    hide();
                    const {label, result} = event;
                    logLine(pulledLine(label, result));
                    break;
                }
                case "convertStart":
                    hide();
                    logLine(`Converting the ${event.adapter} adapter to GGUF (once; it is kept in the store)…`);
                    show("Converting");
                    break;
                case "convertProgress":
                    display?.update(event.fraction);
                    break;
                case "converted":
                    hide();
                    logLine(`${event.adapter} adapter ready: ${loraPairs(event.tensors)}, rank ${event.ranks.join(", ")}, ${formatBytes(event.fileBytes)}.`);
                    break;
            }
        },
        stop: hide
    };
}

/**
 * The last line of a pull, saying what the file was checked against: "downloaded and verified:
 * sha256 … matches the catalog's", or, without any sha256, that its size was all there was to check.
 */
export function pulledLine(label: string, result: PullResult): string {
    if (result.alreadyPresent || result.verified == null) return `${label} is ready.`;
    const {sha256, size} = result.verified;
    const sizeText = size === "catalog" ? `its ${formatBytes(result.bytes)} are the catalog's exact size` : size === "server" ? `its ${formatBytes(result.bytes)} are the size the server announced` : "";
    const shaText = sha256 === "catalog" ? "matches the catalog's" : sha256 === "server" ? "matches the one the server published"
        : `matches the one its ${result.reusedFrom?.source ?? "folder"} file is named by`;
    const how = result.reusedFrom == null ? "downloaded" : `linked from the ${result.reusedFrom.source}`;
    if (sha256 === "none") return `${label} ${how}; checked by size only (no sha256 to compare with): ${sizeText === "" ? "no size was announced either" : sizeText}.`;
    return `${label} ${how} and verified: sha256 ${result.sha256 ?? "?"} ${shaText}` + (size === "catalog" ? `, and ${sizeText}.` : ".");
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

