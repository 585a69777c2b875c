import {checkKvCacheSettings} from "../hardware/kvCacheSettings.js";
import type {PlanFlags} from "../hardware/planDefaultModel.js";
import type {AcquireHooks} from "../models/acquisition.js";
import {resolveModel as resolveModelFiles, type ResolvedModel} from "../models/resolveModel.js";
import {askYesNo} from "./ui/ask.js";
import {startPullProgress} from "./ui/pullProgress.js";
import {terminalPolicy} from "./ui/terminal.js";

export type TerminalResolveOptions = {
    /** --yes: consent given in advance (to download a missing model). */
    yes?: boolean,
    signal: AbortSignal,
    /** Without --model: the flags the hardware plan honours (--gpu, --quant, --gpu-layers, --context-size, KV cache). */
    planFlags?: PlanFlags
};

/**
 * The core's resolveModel (models/resolveModel.ts) with this terminal's hooks: consent by --yes or
 * by a question asked only when a person is at the terminal, and download and conversion progress
 * drawn on stderr.
 */
export async function resolveModel(model: string | undefined, {yes, signal, planFlags}: TerminalResolveOptions): Promise<ResolvedModel> {
    const progress = startPullProgress();
    const confirm: AcquireHooks["confirm"] = yes === true ? async () => true
        : terminalPolicy().canPrompt ? (question) => askYesNo(question, signal)
            : undefined;
    try {
        return await resolveModelFiles(model, {confirm, onProgress: progress.onProgress, signal, planFlags});
    } finally {
        progress.stop();
    }
}

/** What chat, complete and serve do first: --model (or the plan) as a file, asking only when a person is at the terminal. */
export async function resolveModelFlags(flags: PlanFlags & {model?: string, yes?: boolean}, signal: AbortSignal): Promise<ResolvedModel> {
    // An impossible cache combination fails now, not after a plan, a download or a load.
    checkKvCacheSettings({typeK: flags.cacheTypeK, typeV: flags.cacheTypeV, flashAttention: flags.flashAttention});
    return await resolveModel(flags.model, {yes: flags.yes, signal, planFlags: flags});
}
