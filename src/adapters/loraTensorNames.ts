/**
 * Hugging Face (PEFT) tensor names of a Mixtral/Llama LoRA adapter and the llama.cpp tensors they
 * apply to: the mapping llama.cpp's convert_hf_to_gguf.py (LlamaModel + gguf-py's tensor map) applies
 * to the base model, so that `<gguf name>.lora_a` finds its weight in the converted model.
 */
export type LoraPart = "A" | "B";

/** One PEFT tensor: which module, and whether it is the A (down) or B (up) matrix. */
export type PeftLoraTensorName = {module: string, part: LoraPart, embedding: boolean};

/** Where a module's delta goes in the GGUF model. */
export type LoraTarget = {
    /** e.g. blk.3.attn_q.weight */
    gguf: string,
    /** Q and K rows are permuted by the converter for llama.cpp's RoPE layout; B must be too. */
    permute?: "q" | "k",
    /** Mixtral experts are stacked into one 3-D tensor per layer and matrix. */
    expert?: number,
    /** token embeddings: lora_a is stored transposed (llm_build_inp_embd) */
    embedding?: boolean
};

/**
 * `base_model.model.<module>.lora_A.weight` (PEFT ≥ 0.4 drops the adapter name; older files keep
 * `.lora_A.default.weight`), and `…embed_tokens.lora_embedding_A` for embedding layers.
 */
export function parsePeftTensorName(name: string): PeftLoraTensorName | undefined {
    const stripped = name.replace(/^base_model\.model\./, "");
    const linear = /^(.+)\.lora_(A|B)(?:\.[^.]+)?\.weight$/.exec(stripped);
    if (linear != null) return {module: linear[1]!, part: linear[2] as LoraPart, embedding: false};
    const embedding = /^(.+)\.lora_embedding_(A|B)(?:\.[^.]+)?$/.exec(stripped);
    if (embedding != null) return {module: embedding[1]!, part: embedding[2] as LoraPart, embedding: true};
    return undefined;
}

const attention: Record<string, {tensor: string, permute?: "q" | "k"}> = {
    q_proj: {tensor: "attn_q", permute: "q"},
    k_proj: {tensor: "attn_k", permute: "k"},
    v_proj: {tensor: "attn_v"},
    o_proj: {tensor: "attn_output"}
};
/** Mixtral's expert matrices: w1 is the gate, w3 the up and w2 the down projection. */
const experts: Record<string, string> = {w1: "ffn_gate_exps", w2: "ffn_down_exps", w3: "ffn_up_exps"};
/** A dense Llama/Mistral MLP (no experts). */
const denseMlp: Record<string, string> = {gate_proj: "ffn_gate", up_proj: "ffn_up", down_proj: "ffn_down"};

/** The llama.cpp tensor a PEFT module adapts, or undefined when there is no mapping. */
export function loraTargetOf(module: string): LoraTarget | undefined {
    const name = module.replace(/^model\.model\./, "model.");
    if (name === "lm_head") return {gguf: "output.weight"};
    if (name === "model.embed_tokens") return {gguf: "token_embd.weight", embedding: true};
    let match = /^model\.layers\.(\d+)\.self_attn\.([qkvo]_proj)$/.exec(name);
    if (match != null) {
        const {tensor, permute} = attention[match[2]!]!;
        return {gguf: `blk.${match[1]}.${tensor}.weight`, ...(permute != null ? {permute} : {})};
    }
    match = /^model\.layers\.(\d+)\.block_sparse_moe\.gate$/.exec(name);
    if (match != null) return {gguf: `blk.${match[1]}.ffn_gate_inp.weight`};
    match = /^model\.layers\.(\d+)\.block_sparse_moe\.experts\.(\d+)\.(w[123])$/.exec(name);
    if (match != null) return {gguf: `blk.${match[1]}.${experts[match[3]!]!}.weight`, expert: Number(match[2])};
    match = /^model\.layers\.(\d+)\.mlp\.(gate_proj|up_proj|down_proj)$/.exec(name);
    if (match != null) return {gguf: `blk.${match[1]}.${denseMlp[match[2]!]!}.weight`};
    return undefined;
}

/**
 * The row order llama.cpp's converter gives Q and K (LlamaModel.permute): within each head the two
 * halves of the rotary pairs are interleaved. Returns, for each new row, the original row.
 */
export function ropePermutation(rows: number, heads: number): Int32Array {
    const half = rows / heads / 2;
    const order = new Int32Array(rows);
    for (let head = 0; head < heads; head++)
        for (let j = 0; j < half; j++)
            for (let t = 0; t < 2; t++)
                order[head * 2 * half + j * 2 + t] = head * 2 * half + t * half + j;
    return order;
}
