import {UsageError} from "../errors.js";

export type ResolveModelOptions = {
    /** May we ask the user questions (stdin and stderr are a TTY)? */
    interactive: boolean,
    /** --yes: consent given in advance (e.g. to download). */
    yes?: boolean,
    signal?: AbortSignal
};

/**
 * Turns the --model value into a local GGUF path. Today: a path. The catalog (names, hf:, URLs)
 * and the hardware plan (no --model at all) plug in here.
 */
export async function resolveModelPath(model: string | undefined, options: ResolveModelOptions): Promise<string> {
    void options;
    if (model == null) throw new UsageError("No model given.", {hint: "Pass --model <file.gguf>."});
    return model;
}
