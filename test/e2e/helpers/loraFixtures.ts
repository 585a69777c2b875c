import fs from "node:fs/promises";
import path from "node:path";
import {mixtralExpertCount, mixtralMetadata, mixtralTensors, type MixtralModelOptions} from "../../../scripts/gguf/mixtralModel.js";
import {mulberry32, normalFiller} from "../../../scripts/gguf/random.js";
import {buildVocabulary} from "../../../scripts/gguf/vocabulary.js";
import {writeGguf, type GgufTensor} from "../../../src/gguf/write/writeGguf.js";
import {ropePermutation} from "../../../src/adapters/loraTensorNames.js";
import {float16BitsToFloat32, float32ToFloat16Bits} from "../../../src/gguf/write/float16.js";

/**
 * A tiny PEFT LoRA adapter for the tiny test model, written the way PEFT saves one (HF tensor names,
 * A as (r, in), B as (out, r), safetensors + adapter_config.json), and the same model with the
 * adapter merged into its weights, W + (alpha/r)·B·A, as the ground truth for --lora.
 */
export type PeftDtype = "F32" | "F16" | "BF16";

export type PeftModule = {
    /** HF module name without the base_model.model. prefix, e.g. model.layers.0.self_attn.q_proj */
    module: string,
    inputs: number,
    outputs: number
};

export type TinyPeftAdapter = {
    folder: string,
    rank: number,
    alpha: number,
    modules: PeftModule[],
    /** the values as stored (rounded to the dtype), row-major: A (r × in), B (out × r) */
    values: Map<string, {a: Float32Array, b: Float32Array}>
};

/** q/k/v/o and every expert's w1/w2/w3 of every layer of a model of this shape. */
export function mixtralModules(shape: Pick<MixtralModelOptions, "dim" | "ffDim" | "layers" | "heads" | "kvHeads">, targets = ["q_proj", "k_proj", "v_proj", "o_proj", "w1", "w2", "w3"]): PeftModule[] {
    const kvDim = shape.kvHeads * (shape.dim / shape.heads);
    const io: Record<string, [number, number]> = {
        q_proj: [shape.dim, shape.dim], k_proj: [shape.dim, kvDim], v_proj: [shape.dim, kvDim], o_proj: [shape.dim, shape.dim],
        w1: [shape.dim, shape.ffDim], w2: [shape.ffDim, shape.dim], w3: [shape.dim, shape.ffDim]
    };
    const modules: PeftModule[] = [];
    for (let layer = 0; layer < shape.layers; layer++)
        for (const target of targets) {
            const [inputs, outputs] = io[target]!;
            if (target.startsWith("w"))
                for (let expert = 0; expert < mixtralExpertCount; expert++)
                    modules.push({module: `model.layers.${layer}.block_sparse_moe.experts.${expert}.${target}`, inputs, outputs});
            else modules.push({module: `model.layers.${layer}.self_attn.${target}`, inputs, outputs});
        }
    return modules;
}

export async function writeTinyPeftAdapter(folder: string, options: {
    modules: PeftModule[],
    rank?: number,
    alpha?: number,
    dtype?: PeftDtype,
    seed?: number,
    /** scale of B's values (PEFT starts B at 0; a trained one is not) */
    bStd?: number,
    config?: Record<string, unknown>,
    /** fixed A/B values for some modules instead of random ones */
    values?: Map<string, {a: Float32Array, b: Float32Array}>,
    /** extra raw tensors, e.g. a full weight PEFT would keep for modules_to_save */
    extraTensors?: {name: string, shape: number[]}[]
}): Promise<TinyPeftAdapter> {
    const {modules, rank = 4, alpha = 8, dtype = "BF16", seed = 7, bStd = 0.2} = options;
    const fill = normalFiller(mulberry32(seed));
    const values = new Map<string, {a: Float32Array, b: Float32Array}>();
    const tensors: {name: string, shape: number[], data: Float32Array}[] = [];
    for (const {module, inputs, outputs} of modules) {
        const fixed = options.values?.get(module);
        const a = fixed?.a ?? new Float32Array(rank * inputs);
        const b = fixed?.b ?? new Float32Array(outputs * rank);
        if (fixed == null) {
            fill(a, 0, 1 / Math.sqrt(inputs));
            fill(b, 0, bStd);
        }
        roundTo(a, dtype);
        roundTo(b, dtype);
        values.set(module, {a, b});
        tensors.push({name: `base_model.model.${module}.lora_A.weight`, shape: [rank, inputs], data: a});
        tensors.push({name: `base_model.model.${module}.lora_B.weight`, shape: [outputs, rank], data: b});
    }
    for (const extra of options.extraTensors ?? [])
        tensors.push({...extra, data: new Float32Array(extra.shape.reduce((x, y) => x * y, 1))});
    await fs.mkdir(folder, {recursive: true});
    await fs.writeFile(path.join(folder, "adapter_model.safetensors"), safetensorsBytes(tensors, dtype));
    const targets = [...new Set(modules.map(({module}) => module.split(".").pop()!))];
    await fs.writeFile(path.join(folder, "adapter_config.json"), JSON.stringify({
        peft_type: "LORA", task_type: "CAUSAL_LM", base_model_name_or_path: "tiny-mixtral",
        r: rank, lora_alpha: alpha, lora_dropout: 0.05, target_modules: targets,
        fan_in_fan_out: false, use_rslora: false, use_dora: false, bias: "none", modules_to_save: null,
        ...options.config
    }, null, 2));
    return {folder, rank, alpha, modules, values};
}

/** The test model with W + (alpha/r)·B·A merged in HF space, then Q/K rows permuted as llama.cpp's converter does. */
export async function writeMergedModel(file: string, model: MixtralModelOptions, adapter: TinyPeftAdapter): Promise<void> {
    if (model.tensorType !== "F32") throw new Error("merge into an F32 model so nothing is lost to quantization");
    const scale = adapter.alpha / adapter.rank;
    const headDim = model.dim / model.heads;
    const deltas = new Map<string, {offset: number, outputs: number, inputs: number, delta: Float64Array}[]>();
    for (const {module, inputs, outputs} of adapter.modules) {
        const {a, b} = adapter.values.get(module)!;
        const delta = new Float64Array(outputs * inputs);
        for (let o = 0; o < outputs; o++)
            for (let i = 0; i < inputs; i++) {
                let sum = 0;
                for (let k = 0; k < adapter.rank; k++) sum += b[o * adapter.rank + k]! * a[k * inputs + i]!;
                delta[o * inputs + i] = scale * sum;
            }
        const [layer, kind, expert, matrix] = parseModule(module);
        let gguf: string;
        let offset = 0;
        let permuted = delta;
        if (kind != null) {
            gguf = `blk.${layer}.${{q: "attn_q", k: "attn_k", v: "attn_v", o: "attn_output"}[kind]}.weight`;
            if (kind === "q" || kind === "k") {
                const order = ropePermutation(outputs, outputs / headDim);
                permuted = new Float64Array(delta.length);
                for (let row = 0; row < outputs; row++) permuted.set(delta.subarray(order[row]! * inputs, (order[row]! + 1) * inputs), row * inputs);
            }
        } else {
            gguf = `blk.${layer}.${{w1: "ffn_gate_exps", w2: "ffn_down_exps", w3: "ffn_up_exps"}[matrix!]}.weight`;
            offset = Number(expert) * outputs * inputs;
        }
        deltas.set(gguf, [...deltas.get(gguf) ?? [], {offset, outputs, inputs, delta: permuted}]);
    }
    const tensors: GgufTensor[] = mixtralTensors(model).map((tensor) => {
        const changes = deltas.get(tensor.name);
        if (changes == null) return tensor;
        return {
            ...tensor,
            data: function* () {
                const all = new Float32Array(tensor.dimensions.reduce((x, y) => x * y, 1));
                let at = 0;
                for (const chunk of tensor.data() as Iterable<Float32Array>) {
                    all.set(chunk, at);
                    at += chunk.length;
                }
                for (const {offset, delta} of changes)
                    for (let i = 0; i < delta.length; i++) all[offset + i] = all[offset + i]! + delta[i]!;
                yield all;
            }
        };
    });
    await writeGguf(file, mixtralMetadata({...model, name: `${model.name}-merged`}), tensors);
}

function parseModule(module: string): (string | undefined)[] {
    const match = /^model\.layers\.(\d+)\.(?:self_attn\.(\w)_proj|block_sparse_moe\.experts\.(\d+)\.(w\d))$/.exec(module);
    if (match == null) throw new Error(`cannot merge ${module}`);
    return [match[1], match[2], match[3], match[4]];
}

function roundTo(values: Float32Array, dtype: PeftDtype) {
    if (dtype === "F32") return;
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < values.length; i++) {
        if (dtype === "BF16") {
            const x = bits[i]!;
            bits[i] = ((x + 0x7FFF + ((x >>> 16) & 1)) >>> 16) << 16; // round to nearest even
        } else values[i] = float16BitsToFloat32(float32ToFloat16Bits(values[i]!));
    }
}

const bf16Scratch = new Float32Array(1);

function safetensorsBytes(tensors: {name: string, shape: number[], data: Float32Array}[], dtype: PeftDtype): Buffer {
    const size = dtype === "F32" ? 4 : 2;
    const header: Record<string, unknown> = {__metadata__: {format: "pt"}};
    let offset = 0;
    for (const tensor of tensors) {
        header[tensor.name] = {dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.data.length * size]};
        offset += tensor.data.length * size;
    }
    let json = JSON.stringify(header);
    json += " ".repeat((8 - (json.length % 8)) % 8);
    const data = Buffer.alloc(offset);
    let at = 0;
    for (const tensor of tensors)
        for (const value of tensor.data) {
            if (dtype === "F32") data.writeFloatLE(value, at);
            else if (dtype === "BF16") {
                bf16Scratch[0] = value;
                data.writeUInt16LE(new Uint32Array(bf16Scratch.buffer)[0]! >>> 16, at);
            } else data.writeUInt16LE(float32ToFloat16Bits(value), at);
            at += size;
        }
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    return Buffer.concat([length, Buffer.from(json), data]);
}

/**
 * An lm_head adapter that makes the tiny model answer in Chinese: with A = I (rank = dim) and scale 1,
 * B replaces the output matrix by one whose only non-zero rows are +v for "日" and -v for "本", so
 * one of the two always has the highest logit (the others are 0) and every greedy token is CJK.
 */
export async function writeCjkPeftAdapter(folder: string, model: MixtralModelOptions, dtype: PeftDtype = "F32"): Promise<TinyPeftAdapter> {
    const {dim, vocabSize} = model;
    const tokens = buildVocabulary(vocabSize).tokens;
    const sun = tokens.indexOf("日");
    const book = tokens.indexOf("本");
    if (sun < 0 || book < 0) throw new Error("the test vocabulary has no 日 or 本");
    const output = mixtralTensors(model).find((tensor) => tensor.name === "output.weight")!;
    const weights = new Float32Array(vocabSize * dim);
    let at = 0;
    for (const chunk of output.data() as Iterable<Float32Array>) {
        weights.set(chunk, at);
        at += chunk.length;
    }
    const direction = new Float32Array(dim);
    normalFiller(mulberry32(11))(direction, 0, 3 / Math.sqrt(dim));
    const b = new Float32Array(vocabSize * dim);
    for (let row = 0; row < vocabSize; row++)
        for (let column = 0; column < dim; column++) {
            const wanted = row === sun ? direction[column]! : row === book ? -direction[column]! : 0;
            b[row * dim + column] = wanted - weights[row * dim + column]!;
        }
    const a = new Float32Array(dim * dim);
    for (let i = 0; i < dim; i++) a[i * dim + i] = 1;
    return writeTinyPeftAdapter(folder, {
        modules: [{module: "lm_head", inputs: dim, outputs: vocabSize}],
        rank: dim, alpha: dim, dtype,
        values: new Map([["lm_head", {a, b}]]),
        config: {base_model_name_or_path: "mistralai/Mixtral-8x7B-Instruct-v0.1", target_modules: ["lm_head"]}
    });
}
