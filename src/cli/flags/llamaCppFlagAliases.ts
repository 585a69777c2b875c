/**
 * llama.cpp's tools spell four flags with a single dash and several letters (-ctk, -ctv, -ngl, -fa),
 * which commander reads as bundles of one-letter flags. People type them from llama.cpp habits, so
 * they are rewritten to the long names before parsing (only before a `--` that ends the flags).
 * Flash attention has two long names too, llama-bench's --flash-attn (bench, which takes lists)
 * and llama-server's --flash-attention (the model commands): each command takes both.
 */
export function expandLlamaCppFlagAliases(argv: readonly string[]): string[] {
    const command = argv[2];
    const flashAttention = command === "bench" ? "--flash-attn" : "--flash-attention";
    const aliases: Record<string, string> = {
        "-ctk": "--cache-type-k",
        "-ctv": "--cache-type-v",
        // Read by commander as -n gl (a --max-tokens value) otherwise.
        "-ngl": "--gpu-layers",
        "-fa": flashAttention,
        "--flash-attn": flashAttention,
        "--flash-attention": flashAttention
    };
    const end = argv.indexOf("--");
    return argv.map((arg, index) => {
        if (end >= 0 && index > end) return arg;
        const [name = arg, value] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg];
        const alias = aliases[name];
        if (alias == null) return arg;
        return value == null ? alias : `${alias}=${value}`;
    });
}
