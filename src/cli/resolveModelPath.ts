import {UsageError} from "../errors.js";

export type ResolveModelOptions = {
    /** May we ask the user questions (stdin and stderr are a TTY)? */
    interactive: boolean,
    /** --yes: consent given in advance (e.g. to download). */
    yes?: boolean,
    verbose?: boolean,
    signal?: AbortSignal
};

export type ResolvedModel = {
    path: string,
    /** Set when a plan chose them; flags given by the user always win. */
    gpuLayers?: number,
    contextSize?: number,
    /** One line saying why this file and placement were chosen (printed with --verbose). */
    reason?: string
};

/**
 * Turns the --model value into a local GGUF path. Today: a path. The catalog (names, hf:, URLs)
 * and the hardware plan (no --model at all) plug in here.
 */
export async function resolveModel(model: string | undefined, options: ResolveModelOptions): Promise<ResolvedModel> {
    void options;
    if (model == null) throw new UsageError("No model given.", {hint: "Pass --model <file.gguf>."});
    return {path: model};
}
