import {ModelFileError} from "../errors.js";
import {scalarValue, type GgufScan, type GgufScannedValue} from "./scanGgufHeader.js";

/**
 * The metadata and tensor shapes llama.cpp trusts in a llama-architecture (Mixtral) file, checked
 * before native code sees it: llama.cpp GGML_ASSERTs (aborting the whole process, no message) on
 * many of them. Each rule below names the place in the bundled llama.cpp that would abort or fail:
 *   llama-model.cpp  llama_model_base::load_hparams: 0 < block_count <= 512 (LLAMA_MAX_LAYERS),
 *                    expert_count <= 1024, 0 < expert_used_count <= expert_count, expert groups,
 *                    rope scaling type, n_rot == head size for llama;
 *   models/llama.cpp the graph asserts key length == value length == rope dimensions, and the
 *                    tensor shapes of load_arch_tensors;
 *   llama-vocab.cpp  a vocabulary whose strings are unique (a duplicate trips
 *                    `id_to_token.size() == token_to_id.size()`), scores/types as long as it,
 *                    a BOS token when one is added, byte tokens for SentencePiece's fallback;
 *   ggml rms_norm    a finite, positive epsilon.
 */
export function checkLlamaMetadata(path: string, scan: GgufScan): void {
    const fail = (what: string) => new ModelFileError(`${path} is corrupt: ${what}.`, {
        hint: "The file is damaged or not a Mixtral GGUF; delete it and download it again."
    });
    const metadata = scan.metadata;
    const arch = String(scalarValue(metadata.get("general.architecture")) ?? "llama");
    const key = (name: string) => `${arch}.${name}`;

    const describe = (entry: GgufScannedValue) => entry.type === "array"
        ? `an array of ${entry.values.length} ${entry.itemType} values`
        : entry.type === "string" ? JSON.stringify(entry.value) : String(entry.value);

    const lookup = (name: string, required: boolean) => {
        const entry = metadata.get(name);
        if (entry == null && required) throw fail(`it has no ${name} key`);
        return entry;
    };

    /** A uint32 key (llama.cpp reads these types strictly); undefined when absent and optional. */
    const uint32 = (name: string, {required = false, min = 0, max = 2 ** 32 - 1, why = ""} = {}): number | undefined => {
        const entry = lookup(name, required);
        if (entry == null) return undefined;
        if (entry.type !== "uint32") throw fail(`${name} is ${describe(entry)} of type ${entry.type}, not a uint32`);
        const value = Number(entry.value);
        if (value < min || value > max) throw fail(`${name} is ${value}${why === "" ? `, outside ${min}–${max}` : `; ${why}`}`);
        return value;
    };

    /** A key that is one uint32 for every block or an array of one per block (get_key_or_arr). */
    const perBlock = (name: string, blocks: number, {required = false, min = 0, max = 2 ** 32 - 1, why = ""} = {}): number[] | undefined => {
        const entry = metadata.get(name);
        if (entry?.type !== "array") {
            const value = uint32(name, {required, min, max, why});
            return value == null ? undefined : new Array<number>(blocks).fill(value);
        }
        if (entry.itemType !== "uint32" && entry.itemType !== "int32") throw fail(`${name} is ${describe(entry)}, not uint32 values`);
        if (entry.values.length !== blocks) throw fail(`${name} has ${entry.values.length} values for ${blocks} blocks`);
        const values = entry.values.map(Number);
        const bad = values.findIndex((value) => value < min || value > max);
        if (bad >= 0) throw fail(`${name}[${bad}] is ${values[bad]}${why === "" ? `, outside ${min}–${max}` : `; ${why}`}`);
        return values;
    };

    const float32 = (name: string, {required = false, check, why}: {required?: boolean, check: (value: number) => boolean, why: string}) => {
        const entry = lookup(name, required);
        if (entry == null) return undefined;
        if (entry.type !== "float32") throw fail(`${name} is ${describe(entry)} of type ${entry.type}, not a float32`);
        const value = Number(entry.value);
        if (!check(value)) throw fail(`${name} is ${value}; ${why}`);
        return value;
    };

    // Hyperparameters, in llama.cpp's order.
    uint32(key("context_length"), {required: true, min: 1, why: "the training context must be at least 1 token"});
    const embedding = uint32(key("embedding_length"), {required: true, min: 1, why: "the embedding length must be at least 1"})!;
    const blocks = uint32(key("block_count"), {required: true, min: 1, max: 512, why: "llama.cpp needs 1 to 512 blocks"})!;
    uint32(key("nextn_predict_layers"), {max: blocks, why: `there are only ${blocks} blocks`});

    const experts = metadata.has(key("expert_count"))
        ? uint32(key("expert_count"), {min: 2, max: 1024, why: "a Mixtral file has 2 to 1024 experts (8 for Mixtral 8x7B)"})!
        : undefined;
    if (experts == null) throw fail(`it has no ${key("expert_count")} key, so it is not a mixture of experts like Mixtral`);
    perBlock(key("expert_used_count"), blocks, {required: true, min: 1, max: experts, why: `it must be 1 to expert_count (${experts})`});
    const groups = uint32(key("expert_group_count"), {max: experts - 1, why: `it must be less than expert_count (${experts})`}) ?? 0;
    if (groups > 1) {
        if (experts % groups !== 0) throw fail(`${key("expert_group_count")} is ${groups}, which does not divide expert_count (${experts})`);
        uint32(key("expert_group_used_count"), {required: true, min: 1, max: groups - 1, why: `it must be 1 to expert_group_count - 1 (${groups - 1})`});
    }

    const feedForward = perBlock(key("feed_forward_length"), blocks, {required: true, min: 1, why: "the feed-forward length must be at least 1"})!;
    const heads = perBlock(key("attention.head_count"), blocks, {required: true, min: 1, why: "there must be at least 1 attention head"})!;
    if (embedding % heads[0]! !== 0)
        throw fail(`${key("attention.head_count")} is ${heads[0]}, which does not divide ${key("embedding_length")} (${embedding})`);
    const kvHeads = perBlock(key("attention.head_count_kv"), blocks, {min: 1, why: "there must be at least 1 key/value head"}) ?? heads;
    const badGroup = kvHeads.findIndex((kv, block) => heads[block]! % kv !== 0);
    if (badGroup >= 0)
        throw fail(`${key("attention.head_count_kv")} is ${kvHeads[badGroup]}, which does not divide ${key("attention.head_count")} (${heads[badGroup]})`);
    const headSize = embedding / heads[0]!;
    const keyLength = uint32(key("attention.key_length"), {min: 1}) ?? headSize;
    const valueLength = uint32(key("attention.value_length"), {min: 1}) ?? headSize;
    if (keyLength !== valueLength)
        throw fail(`${key("attention.key_length")} (${keyLength}) and ${key("attention.value_length")} (${valueLength}) differ; llama.cpp needs them equal`);
    const ropeDimensions = uint32(key("rope.dimension_count")) ?? keyLength;
    if (ropeDimensions !== keyLength)
        throw fail(`${key("rope.dimension_count")} is ${ropeDimensions}, but the head size is ${keyLength}; llama.cpp needs them equal`);

    float32(key("attention.layer_norm_rms_epsilon"), {required: true, check: (value) => Number.isFinite(value) && value > 0 && value < 1, why: "it must be a small positive number such as 1e-5"});
    float32(key("rope.freq_base"), {check: (value) => Number.isFinite(value) && value > 0, why: "it must be a positive number such as 1000000"});
    float32(key("rope.scaling.factor"), {check: (value) => Number.isFinite(value) && value >= 0, why: "it must be a non-negative number"});
    const scaling = metadata.get(key("rope.scaling.type"));
    if (scaling != null && !(scaling.type === "string" && ["none", "linear", "yarn", "longrope"].includes(String(scaling.value))))
        throw fail(`${key("rope.scaling.type")} is ${describe(scaling)}; llama.cpp knows none, linear, yarn and longrope`);

    const vocabularySize = checkVocabulary(metadata, fail, describe);
    checkTensorShapes(scan, fail, {embedding, blocks, experts, feedForward, heads, kvHeads, headSize: keyLength, vocabularySize});
}

type Fail = (what: string) => ModelFileError;

function checkVocabulary(metadata: Map<string, GgufScannedValue>, fail: Fail, describe: (entry: GgufScannedValue) => string): number {
    const tokensEntry = metadata.get("tokenizer.ggml.tokens");
    if (tokensEntry == null) throw fail("it has no tokenizer.ggml.tokens key (no vocabulary)");
    if (tokensEntry.type !== "array" || tokensEntry.itemType !== "string") throw fail(`tokenizer.ggml.tokens is ${describe(tokensEntry)}, not a list of strings`);
    const tokens = tokensEntry.values as string[];
    if (tokens.length === 0) throw fail("tokenizer.ggml.tokens is empty (a vocabulary of 0 tokens)");

    const seen = new Map<string, number>();
    for (const [id, token] of tokens.entries()) {
        // llama.cpp renames an empty token so, and then keys its lookup table by the text.
        const text = token === "" ? `[EMPTY_${id}]` : token;
        const first = seen.get(text);
        if (first != null) throw fail(`tokenizer.ggml.tokens holds ${JSON.stringify(token)} twice (tokens ${first} and ${id})`);
        seen.set(text, id);
    }

    for (const [name, types] of [["tokenizer.ggml.scores", ["float32", "int32"]], ["tokenizer.ggml.token_type", ["int32"]]] as const) {
        const entry = metadata.get(name);
        if (entry == null) continue;
        if (entry.type !== "array" || !(types as readonly string[]).includes(entry.itemType)) throw fail(`${name} is ${describe(entry)}, not ${types.join(" or ")} values`);
        if (entry.values.length < tokens.length) throw fail(`${name} has ${entry.values.length} values for ${tokens.length} tokens`);
    }

    const model = metadata.get("tokenizer.ggml.model");
    const sentencePiece = model == null || (model.type === "string" && model.value === "llama");
    for (const [name, entry] of metadata) {
        if (!/^tokenizer\.ggml\.\w+_token_id$/.test(name)) continue;
        if (entry.type !== "uint32" && entry.type !== "int32") throw fail(`${name} is ${describe(entry)}, not a token id`);
        const id = Number(entry.value);
        if (id < -1 || id >= tokens.length) throw fail(`${name} is ${id}, but the vocabulary has ${tokens.length} tokens`);
    }
    const addBos = metadata.get("tokenizer.ggml.add_bos_token");
    if (sentencePiece && (addBos == null || scalarValue(addBos) === true)) {
        const bos = Number(scalarValue(metadata.get("tokenizer.ggml.bos_token_id")) ?? 1);
        if (bos < 0 || bos >= tokens.length) throw fail(`its beginning-of-text token ${bos} is not in its ${tokens.length}-token vocabulary`);
    }
    if (sentencePiece) {
        // SentencePiece spells text it has no piece for as byte tokens; a missing one crashes tokenizing.
        for (let byte = 0; byte < 256; byte++) {
            const name = `<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`;
            if (!seen.has(name) && !seen.has(String.fromCharCode(byte)))
                throw fail(`tokenizer.ggml.tokens lacks the byte token ${name}`);
        }
    }
    return tokens.length;
}

type Shape = {embedding: number, blocks: number, experts: number, feedForward: number[], heads: number[], kvHeads: number[], headSize: number, vocabularySize: number};

function checkTensorShapes(scan: GgufScan, fail: Fail, shape: Shape) {
    const {embedding, blocks, experts, feedForward, heads, kvHeads, headSize, vocabularySize} = shape;
    const byName = new Map(scan.tensors.map((tensor) => [tensor.name, tensor.dimensions]));
    const expect = (name: string, dimensions: number[], required: boolean) => {
        const actual = byName.get(name);
        if (actual == null) {
            if (required) throw fail(`it has no ${name} tensor`);
            return;
        }
        // ggml drops trailing dimensions of 1; compare with them padded back.
        const padded = [...actual, 1, 1, 1, 1].slice(0, 4);
        const wanted = [...dimensions, 1, 1, 1, 1].slice(0, 4);
        if (padded.some((size, index) => size !== wanted[index]))
            throw fail(`tensor ${name} is [${actual.join(", ")}] but its metadata says [${dimensions.join(", ")}]`);
    };

    expect("token_embd.weight", [embedding, vocabularySize], true);
    expect("output_norm.weight", [embedding], true);
    expect("output.weight", [embedding, vocabularySize], false);
    for (let block = 0; block < blocks; block++) {
        const at = (name: string) => `blk.${block}.${name}.weight`;
        const kvSize = headSize * kvHeads[block]!;
        const ff = feedForward[block]!;
        expect(at("attn_norm"), [embedding], true);
        const fused = byName.has(at("attn_qkv"));
        if (fused) expect(at("attn_qkv"), [embedding, headSize * heads[block]! + 2 * kvSize], true);
        expect(at("attn_q"), [embedding, headSize * heads[block]!], !fused);
        expect(at("attn_k"), [embedding, kvSize], !fused);
        expect(at("attn_v"), [embedding, kvSize], !fused);
        expect(at("attn_output"), [headSize * heads[block]!, embedding], true);
        expect(at("ffn_norm"), [embedding], true);
        expect(at("ffn_gate_inp"), [embedding, experts], true);
        expect(at("ffn_gate_exps"), [embedding, ff, experts], false);
        expect(at("ffn_down_exps"), [ff, embedding, experts], true);
        expect(at("ffn_up_exps"), [embedding, ff, experts], true);
    }
    for (const tensor of scan.tensors) {
        const block = /^blk\.(\d+)\./.exec(tensor.name)?.[1];
        if (block != null && Number(block) >= blocks)
            throw fail(`tensor ${tensor.name} belongs to block ${block}, but block_count is ${blocks}`);
    }
}
