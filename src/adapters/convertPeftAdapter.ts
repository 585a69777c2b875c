import fs from "node:fs/promises";
import path from "node:path";
import {AdapterError} from "../errors.js";
import {ggufValue} from "../gguf/write/ggufValues.js";
import {writeGguf, type GgufTensor} from "../gguf/write/writeGguf.js";
import {checkAdapterFitsModel, type ModelShape} from "./adapterFit.js";
import {loraTargetOf, parsePeftTensorName, ropePermutation, type LoraTarget} from "./loraTensorNames.js";
import {patternValue, readPeftConfig, type PeftLoraConfig} from "./peftConfig.js";
import {readAdapterFile} from "./readAdapterFile.js";
import {SafetensorsFile} from "./safetensors.js";

/**
 * PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) → GGUF LoRA adapter, as
 * llama.cpp's convert_lora_to_gguf.py writes it: general.type = adapter, adapter.type = lora,
 * adapter.lora.alpha, and `<model tensor>.lora_a` ([n_in, r] in ggml order, i.e. PEFT's A as is) /
 * `.lora_b` ([r, n_out], PEFT's B), with Q/K rows of B in llama.cpp's RoPE order and Mixtral's
 * experts stacked into [.., .., n_expert] tensors. Tensors are read and written one at a time.
 */
export type BaseModelShape = ModelShape & {headCount: number, headCountKv: number};

export type ConvertAdapterOptions = {
    folder: string,
    output: string,
    type?: "F32" | "F16",
    /** The model the adapter is for: its head counts drive the Q/K permutation and its tensors are checked. */
    base?: BaseModelShape,
    onTensorWritten?: (progress: {index: number, count: number}) => void
};

export type ConvertedAdapter = {output: string, fileBytes: number, tensors: number, alpha: number, ranks: number[], targets: string[]};

/** Mixtral 8x7B's (and Mistral 7B's) attention heads, for adapters converted without a base file. */
const knownHeadCounts: {pattern: RegExp, headCount: number, headCountKv: number}[] = [
    {pattern: /mixtral-8x7b/i, headCount: 32, headCountKv: 8},
    {pattern: /mistral-7b/i, headCount: 32, headCountKv: 8}
];
const supportedBaseNames = /mixtral|mistral|llama/i;

type Pair = {module: string, target: LoraTarget, a: string, b: string, aShape: number[], bShape: number[], foldScale: number};
type Output = {target: LoraTarget, pairs: Pair[]};

export async function convertPeftAdapter(options: ConvertAdapterOptions): Promise<ConvertedAdapter> {
    const config = await readPeftConfig(path.join(options.folder, "adapter_config.json"));
    checkBaseArchitecture(config, options.base);
    const weightsPath = path.join(options.folder, "adapter_model.safetensors");
    if (await exists(path.join(options.folder, "adapter_model.bin")) && !await exists(weightsPath))
        throw new AdapterError(`Unsupported adapter: ${options.folder} holds adapter_model.bin (a pickle), not adapter_model.safetensors.`, {
            hint: "Re-save it with PEFT's save_pretrained(…, safe_serialization=True)."
        });
    const weights = await SafetensorsFile.open(weightsPath);
    try {
        const outputs = planOutputs(weights, config);
        const heads = headCountsFor(config, options.base, outputs);
        const alpha = config.loraAlpha * (config.useRslora ? Math.sqrt(config.r) : 1);
        for (const output of outputs.values())
            for (const pair of output.pairs) {
                // llama.cpp scales by alpha/rank; PEFT by alpha_m/rank_m (or /sqrt(rank_m) with rsLoRA): fold the difference into B.
                const rank = pair.aShape[0]!;
                const moduleAlpha = patternValue(config.alphaPattern, pair.module) ?? config.loraAlpha;
                const wanted = moduleAlpha / (config.useRslora ? Math.sqrt(rank) : rank);
                pair.foldScale = wanted * rank / alpha;
            }
        const tensors = [...outputs.values()].flatMap((output) => ggufTensorsOf(output, weights, options.type ?? "F32", heads));
        const temporary = `${options.output}.${process.pid}.tmp`;
        try {
            const {fileBytes} = await writeGguf(temporary, {
                "general.architecture": ggufValue.string("llama"),
                "general.type": ggufValue.string("adapter"),
                "general.name": ggufValue.string(path.basename(path.resolve(options.folder))),
                "adapter.type": ggufValue.string("lora"),
                "adapter.lora.alpha": ggufValue.float32(alpha)
            }, tensors, {onTensorWritten: ({index, count}) => options.onTensorWritten?.({index, count})});
            if (options.base != null) checkAdapterFitsModel({...await readAdapterFile(temporary), path: options.output}, options.base);
            await fs.rename(temporary, options.output);
            const ranks = [...new Set([...outputs.values()].flatMap((output) => output.pairs.map((pair) => pair.aShape[0]!)))].sort((x, y) => x - y);
            return {output: options.output, fileBytes, tensors: tensors.length, alpha, ranks, targets: [...outputs.keys()]};
        } finally {
            await fs.rm(temporary, {force: true});
        }
    } finally {
        await weights.close();
    }
}

function checkBaseArchitecture(config: PeftLoraConfig, base: BaseModelShape | undefined) {
    if (base != null) {
        if (base.architecture !== "llama")
            throw new AdapterError(`Unsupported base model: ${base.path} is a "${base.architecture}" model; only Mixtral/Llama (llama architecture) adapters convert.`, {hint: "Pass the Mixtral GGUF the adapter was trained on with --base."});
        return;
    }
    if (config.baseModel != null && !supportedBaseNames.test(config.baseModel))
        throw new AdapterError(`Unsupported adapter: it was trained on ${config.baseModel}, not a Mixtral/Llama model.`, {
            hint: "Only adapters of Mixtral, Mistral and Llama models convert; if the base really is one, pass its GGUF with --base."
        });
}

/** Pairs every lora_A with its lora_B and maps it to a llama.cpp tensor; stacks experts. */
function planOutputs(weights: SafetensorsFile, config: PeftLoraConfig): Map<string, Output> {
    const modules = new Map<string, {a?: string, b?: string}>();
    for (const name of weights.tensors.keys()) {
        const parsed = parsePeftTensorName(name);
        if (parsed == null)
            throw new AdapterError(`Unsupported adapter: tensor ${name} is not a LoRA A/B matrix.`, {
                hint: "Full weights (modules_to_save, new embeddings) cannot be applied as a llama.cpp adapter; merge the adapter into the base model instead."
            });
        const entry = modules.get(parsed.module) ?? {};
        entry[parsed.part === "A" ? "a" : "b"] = name;
        modules.set(parsed.module, entry);
    }
    if (modules.size === 0) throw new AdapterError(`${weights.path} holds no LoRA tensors.`, {hint: "Is it the adapter_model.safetensors of a PEFT LoRA adapter?"});

    const unmapped = [...modules.keys()].filter((module) => loraTargetOf(module) == null);
    if (unmapped.length > 0)
        throw new AdapterError(`Unsupported adapter: no llama.cpp tensor for module ${unmapped[0]}${unmapped.length > 1 ? ` (and ${unmapped.length - 1} more)` : ""}.`, {
            hint: "Mixtral adapters may target self_attn.{q,k,v,o}_proj, block_sparse_moe.gate, block_sparse_moe.experts.N.{w1,w2,w3}, lm_head and embed_tokens."
        });

    const outputs = new Map<string, Output>();
    for (const [module, {a, b}] of [...modules].sort(([x], [y]) => naturalCompare(x, y))) {
        if (a == null || b == null)
            throw new AdapterError(`The adapter is incomplete: module ${module} has no lora_${a == null ? "A" : "B"} tensor.`, {hint: "Download or save the adapter again."});
        const target = loraTargetOf(module)!;
        const aShape = weights.tensors.get(a)!.shape;
        const bShape = weights.tensors.get(b)!.shape;
        if (aShape.length !== 2 || bShape.length !== 2 || aShape[0] !== bShape[1])
            throw new AdapterError(`The adapter's ${module} has lora_A ${JSON.stringify(aShape)} and lora_B ${JSON.stringify(bShape)}, which are not rank-r factors of one matrix.`, {hint: "The adapter is damaged or not a LoRA adapter."});
        const expectedRank = patternValue(config.rankPattern, module) ?? config.r;
        if (aShape[0] !== expectedRank && Object.keys(config.rankPattern).length === 0)
            throw new AdapterError(`The adapter's ${module} has rank ${aShape[0]} but adapter_config.json says r = ${config.r}.`, {hint: "The config and the weights do not belong together; download the adapter again."});
        const output = outputs.get(target.gguf) ?? {target, pairs: []};
        output.pairs.push({module, target, a, b, aShape, bShape, foldScale: 1});
        outputs.set(target.gguf, output);
    }
    for (const [gguf, output] of outputs) {
        if (output.target.expert == null) continue;
        output.pairs.sort((x, y) => x.target.expert! - y.target.expert!);
        const missing = output.pairs.findIndex((pair, index) => pair.target.expert !== index);
        const [first] = output.pairs;
        if (missing >= 0)
            throw new AdapterError(`The adapter adapts only some experts of ${gguf}: expert ${missing} has no LoRA.`, {hint: "llama.cpp stacks the experts of a layer into one tensor, so an adapter must cover every expert of a matrix or none."});
        if (output.pairs.some((pair) => String(pair.aShape) !== String(first!.aShape) || String(pair.bShape) !== String(first!.bShape)))
            throw new AdapterError(`The experts of ${gguf} have LoRA matrices of different shapes or ranks.`, {hint: "llama.cpp stacks them into one tensor; they must share one rank."});
    }
    return outputs;
}

function headCountsFor(config: PeftLoraConfig, base: BaseModelShape | undefined, outputs: Map<string, Output>): {headCount: number, headCountKv: number} | undefined {
    if (base != null) return base;
    const known = knownHeadCounts.find((entry) => config.baseModel != null && entry.pattern.test(config.baseModel));
    if (known != null) return known;
    const permuted = [...outputs.values()].find((output) => output.target.permute != null);
    if (permuted != null)
        throw new AdapterError(`The adapter adapts ${permuted.pairs[0]!.module}, whose rows llama.cpp reorders by attention head, but adapter_config.json does not name a base model whose heads are known (${config.baseModel ?? "none"}).`, {
            hint: "Pass the base model with --base <model.gguf|catalog name> so its head counts are read from it."
        });
    return undefined;
}

function ggufTensorsOf(output: Output, weights: SafetensorsFile, type: "F32" | "F16", heads: {headCount: number, headCountKv: number} | undefined): GgufTensor[] {
    const {target, pairs} = output;
    const [first] = pairs;
    const [rank = 0, inputs = 0] = first!.aShape;
    const outputs = first!.bShape[0]!;
    const experts = target.expert != null ? [pairs.length] : [];
    const permutation = target.permute == null ? undefined
        : ropePermutation(outputs, target.permute === "q" ? heads!.headCount : heads!.headCountKv);
    if (permutation != null && outputs % ((target.permute === "q" ? heads!.headCount : heads!.headCountKv) * 2) !== 0)
        throw new AdapterError(`The adapter's ${first!.module} has ${outputs} output rows, which do not split into the base model's attention heads.`, {hint: "Pass the right base model with --base."});

    async function* aValues(): AsyncGenerator<Float32Array> {
        for (const pair of pairs) {
            const a = await weights.readFloat32(pair.a);
            // token embeddings: llama.cpp gathers rows of lora_a by token, so A (r × vocab) is stored transposed
            yield target.embedding === true ? transpose(a, rank, inputs) : a;
        }
    }
    async function* bValues(): AsyncGenerator<Float32Array> {
        for (const pair of pairs) {
            let b = await weights.readFloat32(pair.b);
            if (permutation != null) b = permuteRows(b, permutation, rank);
            if (pair.foldScale !== 1) for (let i = 0; i < b.length; i++) b[i]! *= pair.foldScale;
            yield b;
        }
    }
    return [
        // ggml order is numpy's reversed: A (r, n_in) → [n_in, r]; the embedding's transposed A → [r, vocab]
        {name: `${target.gguf}.lora_a`, dimensions: target.embedding === true ? [rank, inputs] : [inputs, rank, ...experts], type, data: aValues},
        {name: `${target.gguf}.lora_b`, dimensions: [rank, outputs, ...experts], type, data: bValues}
    ];
}

function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
    const out = new Float32Array(values.length);
    for (let row = 0; row < rows; row++)
        for (let column = 0; column < columns; column++)
            out[column * rows + row] = values[row * columns + column]!;
    return out;
}

function permuteRows(values: Float32Array, order: Int32Array, rowLength: number): Float32Array {
    const out = new Float32Array(values.length);
    for (let row = 0; row < order.length; row++)
        out.set(values.subarray(order[row]! * rowLength, (order[row]! + 1) * rowLength), row * rowLength);
    return out;
}

/** Layer 2 before layer 10, expert 2 before expert 10. */
function naturalCompare(a: string, b: string): number {
    return a.localeCompare(b, "en", {numeric: true});
}

async function exists(file: string): Promise<boolean> {
    return fs.access(file).then(() => true, () => false);
}

/** "1 LoRA pair", "28 LoRA pairs", from the tensor count (an A and a B each). */
export function loraPairs(tensorCount: number): string {
    const pairs = tensorCount / 2;
    return `${pairs} LoRA ${pairs === 1 ? "pair" : "pairs"}`;
}
