/**
 * llama.cpp's tools spell four flags with a single dash and several letters (-ctk, -ctv, -fa, -ngl),
 * which commander reads as bundles of one-letter flags. People type them from llama.cpp habits, so
 * they are rewritten to the long names before parsing (only before a `--` that ends the flags).
 */
export function expandLlamaCppFlagAliases(argv: readonly string[]): string[] {
    const command = argv[2];
    const aliases: Record<string, string> = {
        "-ctk": "--cache-type-k",
        "-ctv": "--cache-type-v",
        // llama-bench calls it --flash-attn (taking lists); our model commands --flash-attention.
        "-fa": command === "bench" ? "--flash-attn" : "--flash-attention",
        "-ngl": "--gpu-layers"
    };
    const end = argv.indexOf("--");
    return argv.map((arg, index) => (end >= 0 && index > end) ? arg : aliases[arg] ?? arg);
}
