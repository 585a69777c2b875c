/**
 * Writes a Mixtral-architecture model (llama.cpp arch "llama" with 8 experts, 2 used per token) with
 * deterministic random weights: the same tensor names, shapes and metadata as a converted
 * Mixtral-8x7B-Instruct GGUF, at any size. Shapes follow llama.cpp's `llama_model_llama::load_arch_tensors`
 * (dimensions in ggml order, row length first).
 */
import {mistralToolsChatTemplate} from "./mistralToolsChatTemplate.js";
import {mixtralInstructChatTemplate} from "./mixtralChatTemplate.js";
import {gaussianTensor} from "./random.js";
import {tensorTypeLayouts, type TensorType} from "../../src/gguf/write/tensorTypes.js";
import {buildVocabulary, bosTokenId, eosTokenId, firstWordPieceId, unknownTokenId} from "./vocabulary.js";
import {ggufValue, type GgufMetadataEntries} from "../../src/gguf/write/ggufValues.js";
import {writeGguf, type GgufTensor, type WriteGgufOptions, type WriteGgufResult} from "../../src/gguf/write/writeGguf.js";

export const mixtralExpertCount = 8;
export const mixtralExpertUsedCount = 2;

export type MixtralModelOptions = {
    dim: number,
    ffDim: number,
    layers: number,
    heads: number,
    kvHeads: number,
    /** total tokens: 3 special + 256 byte tokens + word pieces */
    vocabSize: number,
    contextLength: number,
    tensorType: TensorType,
    seed: number,
    /** write Mixtral-8x7B-Instruct's chat template (true, the default), none (false), or "mistral-tools": a Mistral v3-style template with tools */
    chatTemplate?: boolean | "mistral-tools",
    name: string
};

/** The real Mixtral 8x7B shape (about 46.7B parameters; ~26 GB at Q4_0). */
export const mixtral8x7bShape = {
    dim: 4096, ffDim: 14336, layers: 32, heads: 32, kvHeads: 8, vocabSize: 32000, contextLength: 32768
} as const;

export async function writeMixtralModel(
    path: string,
    options: MixtralModelOptions,
    writeOptions: WriteGgufOptions = {}
): Promise<WriteGgufResult> {
    validateMixtralOptions(options);
    return await writeGguf(path, mixtralMetadata(options), mixtralTensors(options), writeOptions);
}

export function mixtralMetadata(options: MixtralModelOptions): GgufMetadataEntries {
    const {dim, ffDim, layers, heads, kvHeads, vocabSize, contextLength, tensorType, chatTemplate = true, name} = options;
    const vocabulary = buildVocabulary(vocabSize);
    return {
        "general.architecture": ggufValue.string("llama"),
        "general.name": ggufValue.string(name),
        "general.file_type": ggufValue.uint32(tensorTypeLayouts[tensorType].llamaFileType),
        "general.quantization_version": ggufValue.uint32(2),
        "llama.vocab_size": ggufValue.uint32(vocabSize),
        "llama.context_length": ggufValue.uint32(contextLength),
        "llama.embedding_length": ggufValue.uint32(dim),
        "llama.block_count": ggufValue.uint32(layers),
        "llama.feed_forward_length": ggufValue.uint32(ffDim),
        "llama.attention.head_count": ggufValue.uint32(heads),
        "llama.attention.head_count_kv": ggufValue.uint32(kvHeads),
        "llama.rope.freq_base": ggufValue.float32(1e6),
        "llama.attention.layer_norm_rms_epsilon": ggufValue.float32(1e-5),
        // llama.cpp asserts n_rot == head dimension for this architecture
        "llama.rope.dimension_count": ggufValue.uint32(dim / heads),
        "llama.expert_count": ggufValue.uint32(mixtralExpertCount),
        "llama.expert_used_count": ggufValue.uint32(mixtralExpertUsedCount),
        "tokenizer.ggml.model": ggufValue.string("llama"),
        "tokenizer.ggml.tokens": ggufValue.stringArray(vocabulary.tokens),
        "tokenizer.ggml.scores": ggufValue.float32Array(vocabulary.scores),
        "tokenizer.ggml.token_type": ggufValue.int32Array(vocabulary.types),
        "tokenizer.ggml.bos_token_id": ggufValue.uint32(bosTokenId),
        "tokenizer.ggml.eos_token_id": ggufValue.uint32(eosTokenId),
        "tokenizer.ggml.unknown_token_id": ggufValue.uint32(unknownTokenId),
        "tokenizer.ggml.add_bos_token": ggufValue.bool(true),
        "tokenizer.ggml.add_eos_token": ggufValue.bool(false),
        ...(chatTemplate === false ? {} : {"tokenizer.chat_template": ggufValue.string(chatTemplate === "mistral-tools" ? mistralToolsChatTemplate : mixtralInstructChatTemplate)})
    };
}

/**
 * Tensor list in file order. Big matrices use the requested type; 1-D norms and the router
 * (ffn_gate_inp) stay F32 as llama.cpp's converter and quantizer keep them.
 *
 * Scales keep activations sane through random layers: projections ~ N(0, 1/fan_in), norms ~1, and an
 * output matrix giving logits of std ~3 so one word piece clearly wins each greedy step. The output rows
 * of the special and byte tokens are exactly zero, so their logit is 0 while the best word piece's is
 * ~+8: greedy decoding never ends early on </s> and never emits a lone UTF-8 byte.
 */
export function mixtralTensors(options: MixtralModelOptions): GgufTensor[] {
    const {dim, ffDim, layers, heads, kvHeads, vocabSize, tensorType, seed} = options;
    const headDim = dim / heads;
    const kvDim = kvHeads * headDim;
    const experts = mixtralExpertCount;

    const matrix = (name: string, dimensions: number[], std: number, zeroPrefix = 0): GgufTensor => tensor(name, dimensions, tensorType, std, 0, zeroPrefix);
    const norm = (name: string): GgufTensor => tensor(name, [dim], "F32", 0.05, 1);
    const tensor = (name: string, dimensions: number[], type: TensorType, std: number, mean = 0, zeroPrefix = 0): GgufTensor => ({
        name,
        dimensions,
        type,
        data: () => gaussianTensor({seed, name, elementCount: dimensions.reduce((a, b) => a * b, 1), std, mean, zeroPrefix})
    });

    const tensors: GgufTensor[] = [matrix("token_embd.weight", [dim, vocabSize], 1)];
    for (let layer = 0; layer < layers; layer++) {
        const block = `blk.${layer}`;
        tensors.push(
            norm(`${block}.attn_norm.weight`),
            matrix(`${block}.attn_q.weight`, [dim, heads * headDim], 1 / Math.sqrt(dim)),
            matrix(`${block}.attn_k.weight`, [dim, kvDim], 1 / Math.sqrt(dim)),
            matrix(`${block}.attn_v.weight`, [dim, kvDim], 1 / Math.sqrt(dim)),
            matrix(`${block}.attn_output.weight`, [heads * headDim, dim], 1 / Math.sqrt(heads * headDim)),
            norm(`${block}.ffn_norm.weight`),
            tensor(`${block}.ffn_gate_inp.weight`, [dim, experts], "F32", 1 / Math.sqrt(dim)),
            matrix(`${block}.ffn_gate_exps.weight`, [dim, ffDim, experts], 1 / Math.sqrt(dim)),
            matrix(`${block}.ffn_down_exps.weight`, [ffDim, dim, experts], 1 / Math.sqrt(ffDim)),
            matrix(`${block}.ffn_up_exps.weight`, [dim, ffDim, experts], 1 / Math.sqrt(dim))
        );
    }
    tensors.push(
        norm("output_norm.weight"),
        matrix("output.weight", [dim, vocabSize], 3 / Math.sqrt(dim), firstWordPieceId * dim)
    );
    return tensors;
}

/** Parameters the file holds (all tensors, embeddings and output included). */
export function mixtralParameterCount(options: Pick<MixtralModelOptions, "dim" | "ffDim" | "layers" | "heads" | "kvHeads" | "vocabSize">): number {
    const {dim, ffDim, layers, heads, kvHeads, vocabSize} = options;
    const kvDim = kvHeads * (dim / heads);
    const perLayer = 2 * dim + 2 * dim * dim + 2 * dim * kvDim + dim * mixtralExpertCount + 3 * dim * ffDim * mixtralExpertCount;
    return 2 * dim * vocabSize + dim + layers * perLayer;
}

export function validateMixtralOptions(options: MixtralModelOptions): void {
    const {dim, ffDim, layers, heads, kvHeads, vocabSize, contextLength, tensorType, seed, name} = options;
    const positive = {dim, ffDim, layers, heads, kvHeads, vocabSize, contextLength};
    for (const [key, value] of Object.entries(positive))
        if (!Number.isSafeInteger(value) || value < 1)
            throw new RangeError(`${key} must be a positive integer, got ${value}`);
    if (!(tensorType in tensorTypeLayouts))
        throw new RangeError(`tensorType must be one of ${Object.keys(tensorTypeLayouts).join(", ")}, got ${tensorType}`);
    if (!Number.isInteger(seed))
        throw new RangeError(`seed must be an integer, got ${seed}`);
    if (name.length === 0)
        throw new RangeError("name must not be empty");
    if (dim % heads !== 0 || (dim / heads) % 2 !== 0)
        throw new RangeError(`dim (${dim}) must split into ${heads} heads of an even size (RoPE rotates pairs)`);
    if (heads % kvHeads !== 0)
        throw new RangeError(`heads (${heads}) must be a multiple of kvHeads (${kvHeads}) for grouped-query attention`);
    const {blockSize} = tensorTypeLayouts[tensorType];
    if (dim % blockSize !== 0 || ffDim % blockSize !== 0)
        throw new RangeError(`${tensorType} rows are ${blockSize}-value blocks: dim (${dim}) and ffDim (${ffDim}) must be multiples of ${blockSize}`);
    buildVocabulary(vocabSize); // throws when vocabSize is too small for the fixed tokens
}
