/**
 * `npm run bench:adapter`: converts a synthetic Mixtral-8x7B-shaped PEFT adapter (BF16, rank 16 on
 * q/k/v/o and every expert's w1/w2/w3, as an Aurora-like adapter) and prints the time, the sizes and
 * the peak RSS, to show the converter streams: its memory stays near one stacked expert tensor, not
 * the adapter's size. `--layers N` (default 32) and `--rank R` (default 16) shrink or grow it.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {parseArgs} from "node:util";
import {convertPeftAdapter} from "../src/adapters/convertPeftAdapter.js";

const {values} = parseArgs({options: {layers: {type: "string", default: "32"}, rank: {type: "string", default: "16"}, type: {type: "string", default: "f16"}}});
const layers = Number(values.layers);
const rank = Number(values.rank);
const dim = 4096, ffDim = 14336, kvDim = 1024, experts = 8;

type Entry = {name: string, shape: [number, number]};
const entries: Entry[] = [];
const pair = (module: string, inputs: number, outputs: number) => entries.push(
    {name: `base_model.model.${module}.lora_A.weight`, shape: [rank, inputs]},
    {name: `base_model.model.${module}.lora_B.weight`, shape: [outputs, rank]}
);
for (let layer = 0; layer < layers; layer++) {
    const prefix = `model.layers.${layer}`;
    pair(`${prefix}.self_attn.q_proj`, dim, dim);
    pair(`${prefix}.self_attn.k_proj`, dim, kvDim);
    pair(`${prefix}.self_attn.v_proj`, dim, kvDim);
    pair(`${prefix}.self_attn.o_proj`, dim, dim);
    for (let expert = 0; expert < experts; expert++) {
        pair(`${prefix}.block_sparse_moe.experts.${expert}.w1`, dim, ffDim);
        pair(`${prefix}.block_sparse_moe.experts.${expert}.w2`, ffDim, dim);
        pair(`${prefix}.block_sparse_moe.experts.${expert}.w3`, dim, ffDim);
    }
}

const folder = await fs.mkdtemp(path.join(os.tmpdir(), "mixtral-bench-adapter-"));
try {
    // The safetensors file is written tensor by tensor too, so this script's own memory stays small.
    const header: Record<string, unknown> = {__metadata__: {format: "pt"}};
    let offset = 0;
    for (const entry of entries) {
        const bytes = entry.shape[0] * entry.shape[1] * 2;
        header[entry.name] = {dtype: "BF16", shape: entry.shape, data_offsets: [offset, offset + bytes]};
        offset += bytes;
    }
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    const weights = path.join(folder, "adapter_model.safetensors");
    const file = await fs.open(weights, "w");
    await file.write(Buffer.concat([length, json]));
    for (const entry of entries) {
        const values = new Uint16Array(entry.shape[0] * entry.shape[1]);
        // small BF16 values: 0x3C00..0x3CFF is about 0.0078..0.0155
        for (let i = 0; i < values.length; i++) values[i] = 0x3C00 | (i * 2654435761 >>> 24);
        await file.write(new Uint8Array(values.buffer));
    }
    await file.close();
    await fs.writeFile(path.join(folder, "adapter_config.json"), JSON.stringify({
        peft_type: "LORA", r: rank, lora_alpha: 2 * rank, base_model_name_or_path: "mistralai/Mixtral-8x7B-Instruct-v0.1",
        target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "w1", "w2", "w3"]
    }));

    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    let peakRss = rssBefore;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
    const result = await convertPeftAdapter({
        folder, output: path.join(folder, "adapter.gguf"), type: values.type === "f32" ? "F32" : "F16",
        onTensorWritten: () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }
    });
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
    const inputBytes = (await fs.stat(weights)).size;
    console.log(`${layers} layers, rank ${rank}: ${entries.length / 2} PEFT pairs → ${result.tensors / 2} GGUF pairs`);
    console.log(`input ${mib(inputBytes)} BF16 → output ${mib(result.fileBytes)} ${values.type.toUpperCase()} in ${seconds.toFixed(1)} s (${mib(inputBytes / seconds)}/s read)`);
    console.log(`RSS before ${mib(rssBefore)}, peak during conversion ${mib(peakRss)} (+${mib(peakRss - rssBefore)}); the largest stacked tensor is ${mib(experts * ffDim * rank * 4)} as float32`);
} finally {
    await fs.rm(folder, {recursive: true, force: true});
}
