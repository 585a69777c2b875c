import {ModelNotFoundError} from "../errors.js";
import {pullModel, type PullEvent, type PullResult, type PullTarget} from "./download.js";

/**
 * What happens while a model is acquired, for the caller to show: each file's pull (download,
 * resume, retries, verification) under the name it is shown by, and a fine-tune adapter's one-time
 * conversion to GGUF.
 */
export type AcquireEvent =
    | {type: "pull", label: string, event: PullEvent}
    /** The file is in the store: found there, linked from another tool's folder, or downloaded and verified. */
    | {type: "pulled", label: string, result: PullResult}
    | {type: "convertStart", adapter: string}
    | {type: "convertProgress", adapter: string, fraction: number}
    | {type: "converted", adapter: string, tensors: number, ranks: number[], fileBytes: number};

/**
 * The caller's side of acquiring a model. Nothing in models/ prints, prompts or exits: consent and
 * progress go through these.
 */
export type AcquireHooks = {
    /**
     * Asked before anything is downloaded, with one sentence ("X is not downloaded. Download it now
     * (26 GB)?"); true downloads. Without it nobody can be asked: a missing file is an error that
     * names the `mixtral pull` to run.
     */
    confirm?: (question: string) => Promise<boolean>,
    onProgress?: (event: AcquireEvent) => void,
    /** Stops a download (the partial file is kept for resume) or a conversion. */
    signal?: AbortSignal
};

/** The hooks of a pull; `reuse` false: no looking for copies in the Hugging Face cache, LM Studio or Ollama. */
export type PullHooks = AcquireHooks & {reuse?: boolean};

/** One file into the store (resumable, verified), its events labelled with the name it is shown by. */
export async function pullFile(target: PullTarget, {signal, onProgress, reuse}: PullHooks): Promise<PullResult> {
    const label = target.kind === "catalog" ? target.entry.name : target.file;
    const result = await pullModel(target, {signal, reuse, onEvent: (event) => onProgress?.({type: "pull", label, event})});
    onProgress?.({type: "pulled", label, result});
    return result;
}

/**
 * Consent before `what` is downloaded (`size` as " (26 GB)", or ""): the confirm hook's yes, else a
 * ModelNotFoundError whose hint is the pull that fetches it (and --yes, when nobody could be asked).
 */
export async function consentToDownload(what: string, size: string, pullName: string, {confirm}: AcquireHooks): Promise<void> {
    const missing = `${what} is not downloaded.`;
    if (confirm != null && await confirm(`${missing} Download it now${size}?`)) return;
    throw new ModelNotFoundError(missing, {
        hint: `Run: mixtral pull ${pullName}` + (confirm != null ? "" : "  (or pass --yes to download it now)")
    });
}
