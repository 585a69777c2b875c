import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {convertPeftAdapter} from "../../src/adapters/convertPeftAdapter.js";
import {loraTargetOf, parsePeftTensorName, ropePermutation} from "../../src/adapters/loraTensorNames.js";
import {parsePeftConfig, patternValue} from "../../src/adapters/peftConfig.js";
import {readGgufHeader} from "../../src/gguf/ggufHeader.js";
import {float16BitsToFloat32} from "../../src/gguf/write/float16.js";
import {writeTinyPeftAdapter} from "../e2e/helpers/loraFixtures.js";

let dir: string;
beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "mixtral-peft-unit-"));
});
afterAll(async () => {
    await fs.rm(dir, {recursive: true, force: true});
});

/** A tensor's values from a GGUF file (F32 or F16), in storage order. */
async function ggufValues(file: string, name: string): Promise<Float32Array> {
    const info = await readGgufHeader(file);
    const tensor = info.tensorInfo!.find((candidate) => candidate.name === name)!;
    const count = tensor.dimensions.reduce<number>((a, b) => a * Number(b), 1);
    const size = tensor.ggmlType === 0 ? 4 : 2;
    const bytes = Buffer.alloc(count * size);
    const handle = await fs.open(file, "r");
    await handle.read(bytes, 0, bytes.length, Number(tensor.fileOffset));
    await handle.close();
    return Float32Array.from({length: count}, (_, i) => size === 4 ? bytes.readFloatLE(i * 4) : float16BitsToFloat32(bytes.readUInt16LE(i * 2)));
}

describe("PEFT names and llama.cpp tensors", () => {
    it("parses PEFT's tensor names, with and without the adapter name, and embedding factors", () => {
        expect(parsePeftTensorName("base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight")).toEqual({module: "model.layers.3.self_attn.q_proj", part: "A", embedding: false});
        expect(parsePeftTensorName("base_model.model.model.layers.3.self_attn.q_proj.lora_B.default.weight")).toEqual({module: "model.layers.3.self_attn.q_proj", part: "B", embedding: false});
        expect(parsePeftTensorName("base_model.model.model.embed_tokens.lora_embedding_A")).toEqual({module: "model.embed_tokens", part: "A", embedding: true});
        expect(parsePeftTensorName("base_model.model.lm_head.weight")).toBeUndefined();
    });

    it("maps Mixtral's modules as convert_hf_to_gguf.py names them", () => {
        expect(loraTargetOf("model.layers.0.self_attn.q_proj")).toEqual({gguf: "blk.0.attn_q.weight", permute: "q"});
        expect(loraTargetOf("model.layers.31.self_attn.k_proj")).toEqual({gguf: "blk.31.attn_k.weight", permute: "k"});
        expect(loraTargetOf("model.layers.2.self_attn.o_proj")).toEqual({gguf: "blk.2.attn_output.weight"});
        expect(loraTargetOf("model.layers.2.block_sparse_moe.gate")).toEqual({gguf: "blk.2.ffn_gate_inp.weight"});
        expect(loraTargetOf("model.layers.2.block_sparse_moe.experts.7.w1")).toEqual({gguf: "blk.2.ffn_gate_exps.weight", expert: 7});
        expect(loraTargetOf("model.layers.2.block_sparse_moe.experts.7.w2")).toEqual({gguf: "blk.2.ffn_down_exps.weight", expert: 7});
        expect(loraTargetOf("model.layers.2.block_sparse_moe.experts.7.w3")).toEqual({gguf: "blk.2.ffn_up_exps.weight", expert: 7});
        expect(loraTargetOf("lm_head")).toEqual({gguf: "output.weight"});
        expect(loraTargetOf("model.embed_tokens")).toEqual({gguf: "token_embd.weight", embedding: true});
        expect(loraTargetOf("model.layers.0.self_attn.qkv_proj")).toBeUndefined();
    });

    it("permutes rows like LlamaModel.permute: reshape(heads, 2, rows/heads/2).swapaxes(1, 2)", () => {
        // 2 heads of 4 rows: each head's halves [0 1 | 2 3] interleave to [0 2 1 3]
        expect([...ropePermutation(8, 2)]).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
        expect([...ropePermutation(4, 1)]).toEqual([0, 2, 1, 3]);
    });

    it("looks up rank and alpha patterns on a module-name suffix, as PEFT does", () => {
        expect(patternValue({"q_proj": 16}, "model.layers.0.self_attn.q_proj")).toBe(16);
        expect(patternValue({"layers\\.1\\..*v_proj": 2}, "model.layers.1.self_attn.v_proj")).toBe(2);
        expect(patternValue({"q_proj": 16}, "model.layers.0.self_attn.k_proj")).toBeUndefined();
    });

    it("refuses DoRA, other PEFT methods and modules_to_save by name", () => {
        expect(() => parsePeftConfig({r: 4, lora_alpha: 8, use_dora: true})).toThrow(/DoRA/);
        expect(() => parsePeftConfig({peft_type: "IA3", r: 4})).toThrow(/IA3 adapter, not LoRA/);
        expect(() => parsePeftConfig({r: 4, modules_to_save: ["lm_head"]})).toThrow(/modules_to_save \(lm_head\)/);
        expect(() => parsePeftConfig({r: 0})).toThrow(/no valid rank/);
    });
});

describe("adapter convert", () => {
    it("folds rsLoRA and alpha_pattern into alpha and B, so llama.cpp's alpha/r gives PEFT's scale", async () => {
        const modules = [
            {module: "model.layers.0.self_attn.v_proj", inputs: 64, outputs: 32},
            {module: "model.layers.0.self_attn.o_proj", inputs: 64, outputs: 64}
        ];
        const adapter = await writeTinyPeftAdapter(path.join(dir, "rslora"), {
            modules, rank: 4, alpha: 8, dtype: "F16",
            config: {use_rslora: true, alpha_pattern: {o_proj: 2}, base_model_name_or_path: "mistralai/Mixtral-8x7B-v0.1"}
        });
        const output = path.join(dir, "rslora.gguf");
        const result = await convertPeftAdapter({folder: adapter.folder, output});
        // rsLoRA scales by alpha/sqrt(r): llama.cpp's alpha/r matches it with alpha·sqrt(r) = 16
        expect(result.alpha).toBe(16);
        const v = await ggufValues(output, "blk.0.attn_v.weight.lora_b");
        const o = await ggufValues(output, "blk.0.attn_output.weight.lora_b");
        expect([...v]).toEqual([...adapter.values.get(modules[0]!.module)!.b]);
        // o_proj's alpha is 2, not 8: B carries the factor 2/8
        const expected = adapter.values.get(modules[1]!.module)!.b;
        for (let i = 0; i < o.length; i++) expect(o[i]).toBeCloseTo(expected[i]! * 0.25, 6);
        // A is stored as PEFT saved it: [n_in, r] in ggml order is (r, n_in) row-major
        expect([...await ggufValues(output, "blk.0.attn_v.weight.lora_a")]).toEqual([...adapter.values.get(modules[0]!.module)!.a]);
    });

    it("stores the embedding's A transposed, and --type f16 halves the file", async () => {
        const adapter = await writeTinyPeftAdapter(path.join(dir, "embed"), {
            modules: [{module: "model.layers.0.self_attn.v_proj", inputs: 64, outputs: 32}], rank: 2, dtype: "F32",
            config: {base_model_name_or_path: "mistralai/Mixtral-8x7B-v0.1"}
        });
        // PEFT's embedding factors: lora_embedding_A (r × vocab), lora_embedding_B (dim × r)
        const vocab = 5;
        const a = Float32Array.from({length: 2 * vocab}, (_, i) => i + 1);
        const b = Float32Array.from({length: 64 * 2}, (_, i) => i / 100);
        const header = {
            "base_model.model.model.embed_tokens.lora_embedding_A": {dtype: "F32", shape: [2, vocab], data_offsets: [0, a.byteLength]},
            "base_model.model.model.embed_tokens.lora_embedding_B": {dtype: "F32", shape: [64, 2], data_offsets: [a.byteLength, a.byteLength + b.byteLength]}
        };
        const json = Buffer.from(JSON.stringify(header));
        const length = Buffer.alloc(8);
        length.writeBigUInt64LE(BigInt(json.length));
        await fs.writeFile(path.join(adapter.folder, "adapter_model.safetensors"), Buffer.concat([length, json, Buffer.from(a.buffer), Buffer.from(b.buffer)]));
        const output = path.join(dir, "embed.gguf");
        await convertPeftAdapter({folder: adapter.folder, output});
        const info = await readGgufHeader(output);
        const dims = Object.fromEntries(info.tensorInfo!.map((tensor) => [tensor.name, tensor.dimensions.map(Number)]));
        expect(dims).toEqual({"token_embd.weight.lora_a": [2, vocab], "token_embd.weight.lora_b": [2, 64]});
        // row t of lora_a is token t's r values: A transposed
        expect([...await ggufValues(output, "token_embd.weight.lora_a")]).toEqual([1, 6, 2, 7, 3, 8, 4, 9, 5, 10]);

        const f32 = await convertPeftAdapter({folder: adapter.folder, output: path.join(dir, "embed32.gguf")});
        const f16 = await convertPeftAdapter({folder: adapter.folder, output: path.join(dir, "embed16.gguf"), type: "F16"});
        expect(f16.fileBytes).toBeLessThan(f32.fileBytes);
    });

    it("refuses an adapter that covers only some experts of a matrix", async () => {
        const adapter = await writeTinyPeftAdapter(path.join(dir, "experts"), {
            modules: [0, 1, 3].map((expert) => ({module: `model.layers.0.block_sparse_moe.experts.${expert}.w1`, inputs: 64, outputs: 128})),
            config: {base_model_name_or_path: "mistralai/Mixtral-8x7B-v0.1"}
        });
        await expect(convertPeftAdapter({folder: adapter.folder, output: path.join(dir, "experts.gguf")})).rejects.toThrow(/only some experts of blk\.0\.ffn_gate_exps\.weight: expert 2 has no LoRA/);
    });
});
