const suffixes: Record<string, string> = {" - Small": "_S", " - Medium": "_M", " - Large": "_L"};

/** "llama 8x7B Q4_K - Medium" (a model's type description) → "Q4_K_M": the quant name people use for files. */
export function quantOf(typeDescription: string): string {
    const words = typeDescription.split(" ");
    let quant = words.slice(2).join(" ");
    for (const [long, short] of Object.entries(suffixes)) quant = quant.replace(long, short);
    return quant === "" ? typeDescription : quant;
}
