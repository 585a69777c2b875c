import path from "node:path";
import {mixtralMetadata, mixtralTensors, type MixtralModelOptions} from "../../../scripts/gguf/mixtralModel.js";
import {ggufValue, type GgufValue} from "../../../src/gguf/write/ggufValues.js";
import {buildVocabulary} from "../../../scripts/gguf/vocabulary.js";
import {writeGguf} from "../../../src/gguf/write/writeGguf.js";

/**
 * Tiny Mixtral files whose metadata is plausible but wrong in one value, each of which llama.cpp
 * trusts (most abort the process with a bare GGML_ASSERT). `undefined` removes the key.
 */
export const tinyShape: MixtralModelOptions = {
    dim: 64, ffDim: 128, layers: 2, heads: 4, kvHeads: 2, vocabSize: 600, contextLength: 512,
    tensorType: "Q4_0", seed: 7, name: "damaged"
};

type Overrides = Record<string, GgufValue | undefined>;

const tokens = buildVocabulary(tinyShape.vocabSize).tokens;
/** One bit flipped in a word piece can make it equal another: the vocabulary then holds it twice. */
const duplicatedTokens = tokens.map((token, id) => id === 400 ? tokens[401]! : token);
const withoutNewlineByte = tokens.map((token) => token === "<0x0A>" ? "<0x0A-damaged>" : token);

export const damagedMetadataCases: {name: string, overrides: Overrides, shape?: Partial<MixtralModelOptions>, error: RegExp}[] = [
    {name: "block_count 0", overrides: {"llama.block_count": ggufValue.uint32(0)}, error: /llama\.block_count is 0; llama\.cpp needs 1 to 512 blocks/},
    {name: "block_count huge", overrides: {"llama.block_count": ggufValue.uint32(4_000_000_000)}, error: /llama\.block_count is 4000000000/},
    {name: "block_count above the tensors", overrides: {"llama.block_count": ggufValue.uint32(3)}, error: /no blk\.2\.attn_norm\.weight tensor/},
    {name: "block_count below the tensors", overrides: {"llama.block_count": ggufValue.uint32(1)}, error: /tensor blk\.1\.\S+ belongs to block 1, but block_count is 1/},
    {name: "expert_count 0", overrides: {"llama.expert_count": ggufValue.uint32(0)}, error: /llama\.expert_count is 0/},
    {name: "expert_count 1", overrides: {"llama.expert_count": ggufValue.uint32(1)}, error: /llama\.expert_count is 1/},
    {name: "expert_count missing", overrides: {"llama.expert_count": undefined}, error: /no llama\.expert_count key/},
    {name: "expert_count disagrees with the tensors", overrides: {"llama.expert_count": ggufValue.uint32(4)}, error: /tensor blk\.0\.ffn_gate_inp\.weight is \[64, 8\] but its metadata says \[64, 4\]/},
    {name: "expert_used_count 0", overrides: {"llama.expert_used_count": ggufValue.uint32(0)}, error: /llama\.expert_used_count is 0/},
    {name: "expert_used_count above expert_count", overrides: {"llama.expert_used_count": ggufValue.uint32(9)}, error: /llama\.expert_used_count is 9; it must be 1 to expert_count \(8\)/},
    {name: "expert_used_count missing", overrides: {"llama.expert_used_count": undefined}, error: /no llama\.expert_used_count key/},
    {name: "expert_group_count not below expert_count", overrides: {"llama.expert_group_count": ggufValue.uint32(8)}, error: /llama\.expert_group_count is 8/},
    {name: "head_count 0", overrides: {"llama.attention.head_count": ggufValue.uint32(0)}, error: /llama\.attention\.head_count is 0/},
    {name: "head_count not dividing the embedding", overrides: {"llama.attention.head_count": ggufValue.uint32(5)}, error: /head_count is 5, which does not divide llama\.embedding_length \(64\)/},
    {name: "head_count_kv 0", overrides: {"llama.attention.head_count_kv": ggufValue.uint32(0)}, error: /llama\.attention\.head_count_kv is 0/},
    {name: "head_count_kv not dividing head_count", overrides: {"llama.attention.head_count_kv": ggufValue.uint32(3)}, error: /head_count_kv is 3, which does not divide/},
    {name: "feed_forward_length 0", overrides: {"llama.feed_forward_length": ggufValue.uint32(0)}, error: /llama\.feed_forward_length is 0/},
    {name: "feed_forward_length disagrees with the tensors", overrides: {"llama.feed_forward_length": ggufValue.uint32(96)}, error: /tensor blk\.0\.ffn_gate_exps\.weight is \[64, 128, 8\] but its metadata says \[64, 96, 8\]/},
    {name: "embedding_length 0", overrides: {"llama.embedding_length": ggufValue.uint32(0)}, error: /llama\.embedding_length is 0/},
    {name: "context_length 0", overrides: {"llama.context_length": ggufValue.uint32(0)}, error: /llama\.context_length is 0/},
    {name: "rms epsilon NaN", overrides: {"llama.attention.layer_norm_rms_epsilon": ggufValue.float32(NaN)}, error: /llama\.attention\.layer_norm_rms_epsilon is NaN/},
    {name: "rms epsilon negative", overrides: {"llama.attention.layer_norm_rms_epsilon": ggufValue.float32(-1)}, error: /layer_norm_rms_epsilon is -1/},
    {name: "rms epsilon missing", overrides: {"llama.attention.layer_norm_rms_epsilon": undefined}, error: /no llama\.attention\.layer_norm_rms_epsilon key/},
    {name: "rope dimensions not the head size", overrides: {"llama.rope.dimension_count": ggufValue.uint32(8)}, error: /llama\.rope\.dimension_count is 8, but the head size is 16/},
    {name: "key and value lengths differ", overrides: {"llama.attention.value_length": ggufValue.uint32(8)}, error: /key_length \(16\) and llama\.attention\.value_length \(8\) differ/},
    {name: "unknown rope scaling type", overrides: {"llama.rope.scaling.type": ggufValue.string("spiral")}, error: /llama\.rope\.scaling\.type is "spiral"/},
    {name: "rope freq_base NaN", overrides: {"llama.rope.freq_base": ggufValue.float32(NaN)}, error: /llama\.rope\.freq_base is NaN/},
    {name: "block_count of the wrong type", overrides: {"llama.block_count": ggufValue.float32(2)}, error: /llama\.block_count is 2 of type float32, not a uint32/},
    {name: "a duplicated vocabulary string", overrides: {"tokenizer.ggml.tokens": ggufValue.stringArray(duplicatedTokens)}, error: /tokenizer\.ggml\.tokens holds ".*" twice \(tokens 400 and 401\)/},
    {name: "an empty vocabulary", overrides: {"tokenizer.ggml.tokens": ggufValue.stringArray([])}, error: /tokenizer\.ggml\.tokens is empty/},
    {name: "no vocabulary", overrides: {"tokenizer.ggml.tokens": undefined}, error: /no tokenizer\.ggml\.tokens key/},
    {name: "scores shorter than the vocabulary", overrides: {"tokenizer.ggml.scores": ggufValue.float32Array(new Float32Array(10))}, error: /tokenizer\.ggml\.scores has 10 values for 600 tokens/},
    {name: "a byte token missing", overrides: {"tokenizer.ggml.tokens": ggufValue.stringArray(withoutNewlineByte)}, error: /lacks the byte token <0x0A>/},
    {name: "bos token out of the vocabulary", overrides: {"tokenizer.ggml.bos_token_id": ggufValue.uint32(600)}, error: /tokenizer\.ggml\.bos_token_id is 600, but the vocabulary has 600 tokens/},
    {name: "a vocabulary that disagrees with the embeddings", overrides: {}, shape: {vocabSize: 700}, error: /tensor token_embd\.weight is \[64, 700\] but its metadata says \[64, 600\]/}
];

/** Writes the case's file into `directory`; the tensors may come from another shape than the metadata. */
export async function writeDamagedModel(directory: string, index: number): Promise<string> {
    const damage = damagedMetadataCases[index]!;
    const file = path.join(directory, `damaged-${index}.gguf`);
    await writeTinyModel(file, damage.overrides, damage.shape);
    return file;
}

/** The tiny Mixtral with some metadata replaced (`undefined` removes a key). */
export async function writeTinyModel(file: string, overrides: Overrides, shape: Partial<MixtralModelOptions> = {}): Promise<void> {
    const metadata: Record<string, GgufValue> = {...mixtralMetadata(tinyShape)};
    for (const [key, value] of Object.entries(overrides)) {
        if (value === undefined) delete metadata[key];
        else metadata[key] = value;
    }
    await writeGguf(file, metadata, mixtralTensors({...tinyShape, ...shape}));
}
