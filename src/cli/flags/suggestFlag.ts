/**
 * Did-you-mean for the flags people bring from llama.cpp and Ollama. Commander suggests a flag
 * close in spelling (`--threds` → `--threads`), but `--ctx-size` is far from `--context-size` and
 * `--temp` is nearest to `--help`: those are named here.
 */
const otherToolsFlags: Record<string, string> = {
    "--ctx-size": "--context-size",
    "--num-ctx": "--context-size",
    "--n-predict": "--max-tokens",
    "--predict": "--max-tokens",
    "--num-predict": "--max-tokens",
    "--temp": "--temperature",
    "--n-gpu-layers": "--gpu-layers",
    "--num-gpu": "--gpu-layers",
    "--num-thread": "--threads",
    "--grammar-file": "--grammar",
    "--system-prompt": "--system",
    "--repeat_penalty": "--repeat-penalty",
    "--top_k": "--top-k",
    "--top_p": "--top-p",
    "--min_p": "--min-p",
    "--max_tokens": "--max-tokens"
};

/**
 * Commander's error text with our suggestion in place of its own (or of none) for a known foreign
 * flag, when the command has ours (`serve` has no --max-tokens to suggest for --n-predict).
 */
export function withFlagSuggestion(text: string, commandFlags: readonly (string | undefined)[]): string {
    const flag = /unknown option '([^'=]+)/.exec(text)?.[1];
    const ours = flag == null ? undefined : otherToolsFlags[flag];
    if (ours == null || !commandFlags.includes(ours)) return text;
    const suggestion = `(Did you mean ${ours}?)`;
    return /\(Did you mean [^)]*\)/.test(text) ? text.replace(/\(Did you mean [^)]*\)/, suggestion) : text.replace(/\n?$/, `\n${suggestion}\n`);
}
