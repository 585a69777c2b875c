/**
 * The GGUF writer: quantizers byte-exact against blocks worked out by hand from ggml's reference
 * quantizers, and written files read back field by field with node-llama-cpp's own GGUF parser.
 */
import {mkdtempSync, readFileSync, rmSync, existsSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, describe, expect, test} from "vitest";
import {readGgufFileInfo, GgmlType} from "node-llama-cpp";
import {float16BitsToFloat32, float32ToFloat16Bits} from "../../src/gguf/write/float16.js";
import {encodeTensorData} from "../../src/gguf/write/quantize.js";
import {decodeTensorData, roundTripThroughType} from "../../scripts/gguf/dequantize.js";
import {writeGguf, type GgufTensor} from "../../src/gguf/write/writeGguf.js";
import {ggufValue, type GgufValue} from "../../src/gguf/write/ggufValues.js";
import {mixtralMetadata, mixtralParameterCount, mixtralTensors, writeMixtralModel, type MixtralModelOptions} from "../../scripts/gguf/mixtralModel.js";
import {buildVocabulary, firstWordPieceId} from "../../scripts/gguf/vocabulary.js";
import {mixtralInstructChatTemplate} from "../../scripts/gguf/mixtralChatTemplate.js";

const workDir = mkdtempSync(join(tmpdir(), "gguf-writer-"));
afterAll(() => rmSync(workDir, {recursive: true, force: true}));

function block(values: number[]): Float32Array {
    const out = new Float32Array(32);
    out.set(values);
    return out;
}

describe("float16 conversion (ggml_compute_fp32_to_fp16)", () => {
    test.each([
        [1, 0x3C00],
        [-2, 0xC000],
        [0.5, 0x3800],
        [0.1, 0x2E66],
        [65504, 0x7BFF], // largest half
        [65519.99, 0x7BFF], // rounds down below the halfway point
        [65520, 0x7C00], // halfway to the next (nonexistent) half: ties to even -> infinity
        [1 + 2 ** -11, 0x3C00], // tie between 0x3C00 and 0x3C01: even wins
        [1 + 3 * 2 ** -11, 0x3C02], // tie between 0x3C01 and 0x3C02: even wins
        [2 ** -24, 0x0001], // smallest subnormal
        [2 ** -25, 0x0000], // tie with zero: even wins
        [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal units
        [0, 0x0000],
        [-0, 0x8000],
        [Infinity, 0x7C00],
        [NaN, 0x7E00]
    ].map(([value, bits]) => [value!, bits!.toString(16)] as const))("%s -> 0x%s", (value, hexBits) => {
        expect(float32ToFloat16Bits(value).toString(16)).toBe(hexBits);
    });

    test("picks the nearest half, ties to the even one, for many random floats", () => {
        let state = 12345;
        for (let i = 0; i < 5000; i++) {
            state = (Math.imul(state, 1103515245) + 12345) >>> 0;
            const value = Math.fround(((state / 2 ** 32) - 0.5) * 2 ** ((i % 40) - 24));
            const half = float32ToFloat16Bits(value);
            const error = Math.abs(float16BitsToFloat32(half) - value);
            for (const neighbor of [half - 1, half + 1]) {
                if ((neighbor & 0x7FFF) >= 0x7C00 || (neighbor & 0x8000) !== (half & 0x8000))
                    continue;
                const neighborError = Math.abs(float16BitsToFloat32(neighbor) - value);
                expect(error).toBeLessThanOrEqual(neighborError);
                if (error === neighborError)
                    expect(half & 1).toBe(0);
            }
        }
    });
});

describe("Q8_0 blocks (quantize_row_q8_0_ref)", () => {
    test("d = amax/127 = 1: values round half away from zero", () => {
        const bytes = encodeTensorData("Q8_0", block([127, -2.5, 2.5, -0.5, 0.5, 1.49, -1.5, 0]));
        expect([...bytes]).toEqual([
            0x00, 0x3C, // d = 1.0 as half
            127, 0xFD /* -3 */, 3, 0xFF /* -1 */, 1, 1, 0xFE /* -2 */, 0,
            ...new Array(24).fill(0)
        ]);
    });

    test("d = 63.5/127 = 0.5: q = round(2x)", () => {
        const bytes = encodeTensorData("Q8_0", block([-63.5, -10.25, 0.25, -0.75, 3.3]));
        expect([...bytes]).toEqual([
            0x00, 0x38, // d = 0.5
            0x81 /* -127 */, 0xEB /* -21 */, 1, 0xFE /* -2 */, 7,
            ...new Array(27).fill(0)
        ]);
    });

    test("an all-zero block has d = 0 and zero quants", () => {
        expect([...encodeTensorData("Q8_0", new Float32Array(32))]).toEqual(new Array(34).fill(0));
    });
});

describe("Q4_0 blocks (quantize_row_q4_0_ref)", () => {
    test("negative extreme: x = j - 16, d = -16/-8 = 2, nibbles = min(15, trunc(x/2 + 8.5))", () => {
        const values = Float32Array.from({length: 32}, (_, j) => j - 16);
        expect([...encodeTensorData("Q4_0", values)]).toEqual([
            0x00, 0x40, // d = 2.0
            // low nibble: value j, high nibble: value j + 16
            0x80, 0x91, 0x91, 0xA2, 0xA2, 0xB3, 0xB3, 0xC4, 0xC4, 0xD5, 0xD5, 0xE6, 0xE6, 0xF7, 0xF7, 0xF8
        ]);
    });

    test("positive extreme gives a negative scale: d = 4/-8 = -0.5", () => {
        const values = block([4, -2]);
        values[16] = 1;
        expect([...encodeTensorData("Q4_0", values)]).toEqual([
            0x00, 0xB8, // d = -0.5
            0x60, 0x8C, ...new Array(14).fill(0x88) // 4 -> 0, -2 -> 12, 0 -> 8, 1 -> 6
        ]);
    });

    test("an all-zero block has d = 0 / -8 = -0 (half 0x8000, as ggml writes it) and every nibble 8", () => {
        expect([...encodeTensorData("Q4_0", new Float32Array(32))]).toEqual([0x00, 0x80, ...new Array(16).fill(0x88)]);
    });
});

describe("dequantization (dequantize_row_*)", () => {
    test("Q4_0 and Q8_0 blocks decode to d * q", () => {
        const ramp = Float32Array.from({length: 32}, (_, j) => j - 16);
        // d = 2: nibbles min(15, trunc(x/2 + 8.5)) decode to 2 * (nibble - 8)
        expect([...roundTripThroughType("Q4_0", ramp)]).toEqual(
            Array.from({length: 32}, (_, j) => 2 * (Math.min(15, Math.trunc((j - 16) / 2 + 8.5)) - 8))
        );
        const exact = block([127, -2.5, 2.5, -0.5]);
        expect([...roundTripThroughType("Q8_0", exact)]).toEqual([127, -3, 3, -1, ...new Array(28).fill(0)]);
        expect([...decodeTensorData("F16", Uint8Array.of(0x00, 0x3C, 0x00, 0xC0), 2)]).toEqual([1, -2]);
    });
});

/** Follows a dotted GGUF key through node-llama-cpp's nested metadata object. */
function metadataValue(metadata: object, key: string): unknown {
    return key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], metadata);
}

function expectedValue(entry: GgufValue): unknown {
    switch (entry.type) {
        case "float32": return Math.fround(entry.value);
        case "float32Array": return Array.from(entry.value, Math.fround);
        case "int32Array": return Array.from(entry.value);
        case "stringArray": return [...entry.value];
        default: return entry.value;
    }
}

function normalizeRead(value: unknown): unknown {
    if (typeof value === "bigint")
        return value;
    if (ArrayBuffer.isView(value))
        return Array.from(value as unknown as ArrayLike<number>);
    return value;
}

describe("writeGguf", () => {
    test("every metadata type and every tensor info reads back with node-llama-cpp's parser", async () => {
        const path = join(workDir, "all-types.gguf");
        const metadata = {
            "general.architecture": ggufValue.string("llama"),
            "test.uint32": ggufValue.uint32(4_000_000_000),
            "test.int32": ggufValue.int32(-123456),
            "test.uint64": ggufValue.uint64(2n ** 40n + 5n),
            "test.float32": ggufValue.float32(0.1),
            "test.bool_true": ggufValue.bool(true),
            "test.bool_false": ggufValue.bool(false),
            "test.string": ggufValue.string("héllo ▁日本"),
            "test.strings": ggufValue.stringArray(["a", "", "▁b", "<0x0A>"]),
            "test.floats": ggufValue.float32Array([1.5, -2.25, 1e-5]),
            "test.ints": ggufValue.int32Array([-1, 0, 2147483647])
        };
        const values = Float32Array.from({length: 64 * 3}, (_, i) => Math.sin(i));
        const tensors: GgufTensor[] = [
            {name: "a.f32", dimensions: [5], type: "F32", data: () => [values.subarray(0, 5)]},
            {name: "b.f16", dimensions: [3, 2], type: "F16", data: () => [values.subarray(0, 6)]},
            {name: "c.q8_0", dimensions: [64, 3], type: "Q8_0", data: () => [values]},
            {name: "d.q4_0", dimensions: [32, 2, 3], type: "Q4_0", data: () => [values]}
        ];
        const {fileBytes, dataOffset} = await writeGguf(path, metadata, tensors);
        expect(statSync(path).size).toBe(fileBytes);
        expect(dataOffset % 32).toBe(0);

        const info = await readGgufFileInfo(path, {logWarnings: false});
        expect(info.version).toBe(3);
        expect(Number(info.tensorCount)).toBe(4);
        expect(metadataValue(info.metadata, "general.alignment")).toBe(32);
        for (const [key, entry] of Object.entries(metadata))
            expect(normalizeRead(metadataValue(info.metadata, key)), key).toEqual(expectedValue(entry));

        expect(info.tensorInfo?.map((t) => ({
            name: t.name, dimensions: t.dimensions.map(Number), type: t.ggmlType, offset: Number(t.offset)
        }))).toEqual([
            {name: "a.f32", dimensions: [5], type: GgmlType.F32, offset: 0},
            {name: "b.f16", dimensions: [3, 2], type: GgmlType.F16, offset: 32}, // 20 bytes padded to 32
            {name: "c.q8_0", dimensions: [64, 3], type: GgmlType.Q8_0, offset: 64}, // 12 bytes padded
            {name: "d.q4_0", dimensions: [32, 2, 3], type: GgmlType.Q4_0, offset: 64 + 224} // 6 blocks * 34 = 204 -> 224
        ]);
        expect(info.infoEndOffset).toBe(dataOffset);
        expect(fileBytes).toBe(dataOffset + 64 + 224 + 128); // last tensor (6 * 18 = 108 bytes) padded too

        const file = readFileSync(path);
        const tensorBytes = (offset: number, length: number) => [...file.subarray(dataOffset + offset, dataOffset + offset + length)];
        expect(tensorBytes(0, 20)).toEqual([...new Uint8Array(values.slice(0, 5).buffer)]);
        expect(tensorBytes(64, 204)).toEqual([...encodeTensorData("Q8_0", values)]);
        expect(tensorBytes(288, 108)).toEqual([...encodeTensorData("Q4_0", values)]);
    });

    test("chunks of any length, with a reused buffer, encode the same as the whole tensor", async () => {
        const path = join(workDir, "chunks.gguf");
        const values = Float32Array.from({length: 32 * 40}, (_, i) => Math.cos(i * 0.37) * (1 + (i % 7)));
        const chunkLengths = [1, 7, 31, 33, 64, 5, 100, 0, 3];
        function* oddChunks(): Generator<Float32Array> {
            const reused = new Float32Array(100);
            let start = 0;
            for (let i = 0; start < values.length; i++) {
                const length = Math.min(chunkLengths[i % chunkLengths.length]!, values.length - start);
                reused.set(values.subarray(start, start + length));
                yield reused.subarray(0, length);
                reused.fill(NaN); // a writer that kept the chunk instead of encoding it would see this
                start += length;
            }
        }
        const types = ["F32", "F16", "Q8_0", "Q4_0"] as const;
        const {dataOffset} = await writeGguf(path, {}, types.map((type) => ({name: type, dimensions: [32, 40], type, data: oddChunks})));
        const info = await readGgufFileInfo(path, {logWarnings: false});
        const file = readFileSync(path);
        for (const [index, type] of types.entries()) {
            const expected = encodeTensorData(type, values);
            const offset = dataOffset + Number(info.tensorInfo![index]!.offset);
            expect(Buffer.compare(file.subarray(offset, offset + expected.length), expected), type).toBe(0);
        }
    });

    test("streams: data reaches the file while the generator is still producing", async () => {
        const path = join(workDir, "stream.gguf");
        const chunk = new Float32Array(1 << 16).fill(0.5);
        const chunks = 64; // 16 MiB of F32, four times the write buffer
        let fileSizeSeenByLastChunk = 0;
        function* slowTensor(): Generator<Float32Array> {
            for (let i = 0; i < chunks; i++) {
                if (i === chunks - 1)
                    fileSizeSeenByLastChunk = statSync(path).size;
                yield chunk;
            }
        }
        await writeGguf(path, {}, [{name: "big", dimensions: [1 << 16, chunks], type: "F32", data: slowTensor}]);
        expect(fileSizeSeenByLastChunk).toBeGreaterThan(8 * 1024 * 1024);
    });

    test("rejects wrong data or shapes, leaving no file behind", async () => {
        const path = join(workDir, "bad.gguf");
        await expect(writeGguf(path, {}, [{name: "short", dimensions: [32, 2], type: "Q8_0", data: () => [new Float32Array(63)]}]))
            .rejects.toThrow(/produced/);
        expect(existsSync(path)).toBe(false);
        await expect(writeGguf(path, {}, [{name: "long", dimensions: [4], type: "F32", data: () => [new Float32Array(5)]}]))
            .rejects.toThrow(/more values/);
        expect(existsSync(path)).toBe(false);
        await expect(writeGguf(path, {}, [{name: "rows", dimensions: [48, 2], type: "Q4_0", data: () => []}]))
            .rejects.toThrow(/multiple of 32/);
        await expect(writeGguf(path, {}, [
            {name: "same", dimensions: [1], type: "F32", data: () => []},
            {name: "same", dimensions: [1], type: "F32", data: () => []}
        ])).rejects.toThrow(/duplicate/);
        expect(() => ggufValue.uint32(-1)).toThrow(RangeError);
        expect(() => ggufValue.int32(2 ** 31)).toThrow(RangeError);
    });
});

describe("vocabulary", () => {
    test.each([400, 600, 32000])("%d tokens, all distinct, laid out like Mistral's", (size) => {
        const {tokens, scores, types} = buildVocabulary(size);
        expect(tokens).toHaveLength(size);
        expect(scores).toHaveLength(size);
        expect(types).toHaveLength(size);
        expect(new Set(tokens).size).toBe(size);
        expect(tokens.slice(0, 3)).toEqual(["<unk>", "<s>", "</s>"]);
        expect(types.slice(0, 3)).toEqual([2, 3, 3]);
        expect(tokens[3]).toBe("<0x00>");
        expect(tokens[3 + 0x0A]).toBe("<0x0A>");
        expect(tokens[258]).toBe("<0xFF>");
        expect(types.slice(3, firstWordPieceId).every((type) => type === 6)).toBe(true);
        expect(types.slice(firstWordPieceId).every((type) => type === 1)).toBe(true);
        for (const piece of ["▁", "a", "Z", "7", "?", "é", "日", "本", "▁[", "INST"])
            expect(tokens, piece).toContain(piece);
    });

    test("a vocabulary too small for the fixed tokens is refused", () => {
        expect(() => buildVocabulary(300)).toThrow(/too small/);
    });
});

describe("Mixtral model file", () => {
    const options: MixtralModelOptions = {
        dim: 64, ffDim: 96, layers: 2, heads: 4, kvHeads: 2, vocabSize: 400, contextLength: 256,
        tensorType: "Q4_0", seed: 7, name: "unit-mixtral"
    };

    test("every metadata key and tensor info reads back; shapes are what llama.cpp's llama arch expects", async () => {
        const path = join(workDir, "mixtral.gguf");
        await writeMixtralModel(path, options);
        const info = await readGgufFileInfo(path, {logWarnings: false});

        const metadata = mixtralMetadata(options);
        expect(Object.keys(metadata)).toEqual(expect.arrayContaining([
            "general.architecture", "general.name", "general.file_type", "llama.context_length", "llama.embedding_length",
            "llama.block_count", "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
            "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon", "llama.rope.dimension_count",
            "llama.expert_count", "llama.expert_used_count", "llama.vocab_size", "tokenizer.ggml.model",
            "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id",
            "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.add_bos_token",
            "tokenizer.ggml.add_eos_token", "tokenizer.chat_template"
        ]));
        for (const [key, entry] of Object.entries(metadata))
            expect(normalizeRead(metadataValue(info.metadata, key)), key).toEqual(expectedValue(entry));
        expect(metadataValue(info.metadata, "general.file_type")).toBe(2); // LLAMA_FTYPE_MOSTLY_Q4_0
        expect(metadataValue(info.metadata, "llama.rope.dimension_count")).toBe(16);
        expect(metadataValue(info.metadata, "tokenizer.chat_template")).toBe(mixtralInstructChatTemplate);

        const read = new Map(info.tensorInfo!.map((t) => [t.name, {dimensions: t.dimensions.map(Number), type: t.ggmlType}]));
        expect(read.size).toBe(1 + 10 * options.layers + 2);
        for (const tensor of mixtralTensors(options))
            expect(read.get(tensor.name), tensor.name).toEqual({dimensions: [...tensor.dimensions], type: GgmlType[tensor.type]});
        // grouped-query attention and the expert layout, ggml order (row length first)
        expect(read.get("token_embd.weight")).toEqual({dimensions: [64, 400], type: GgmlType.Q4_0});
        expect(read.get("blk.1.attn_q.weight")).toEqual({dimensions: [64, 64], type: GgmlType.Q4_0});
        expect(read.get("blk.1.attn_k.weight")).toEqual({dimensions: [64, 32], type: GgmlType.Q4_0});
        expect(read.get("blk.1.attn_v.weight")).toEqual({dimensions: [64, 32], type: GgmlType.Q4_0});
        expect(read.get("blk.1.attn_output.weight")).toEqual({dimensions: [64, 64], type: GgmlType.Q4_0});
        expect(read.get("blk.1.ffn_gate_inp.weight")).toEqual({dimensions: [64, 8], type: GgmlType.F32});
        expect(read.get("blk.1.ffn_gate_exps.weight")).toEqual({dimensions: [64, 96, 8], type: GgmlType.Q4_0});
        expect(read.get("blk.1.ffn_up_exps.weight")).toEqual({dimensions: [64, 96, 8], type: GgmlType.Q4_0});
        expect(read.get("blk.1.ffn_down_exps.weight")).toEqual({dimensions: [96, 64, 8], type: GgmlType.Q4_0});
        expect(read.get("blk.0.attn_norm.weight")).toEqual({dimensions: [64], type: GgmlType.F32});
        expect(read.get("output.weight")).toEqual({dimensions: [64, 400], type: GgmlType.Q4_0});

        const parameters = [...read.values()].reduce((sum, t) => sum + t.dimensions.reduce((a, b) => a * b, 1), 0);
        expect(mixtralParameterCount(options)).toBe(parameters);
    });

    test("the same options write the same bytes; another seed writes other weights", async () => {
        const first = join(workDir, "seed-a.gguf");
        const second = join(workDir, "seed-b.gguf");
        const third = join(workDir, "seed-c.gguf");
        await writeMixtralModel(first, options);
        await writeMixtralModel(second, options);
        await writeMixtralModel(third, {...options, seed: 8});
        expect(readFileSync(first).equals(readFileSync(second))).toBe(true);
        expect(readFileSync(first).equals(readFileSync(third))).toBe(false);
    });

    test("invalid shapes are refused before anything is written", async () => {
        await expect(writeMixtralModel(join(workDir, "x.gguf"), {...options, dim: 48})).rejects.toThrow(/multiples of 32/);
        await expect(writeMixtralModel(join(workDir, "x.gguf"), {...options, kvHeads: 3})).rejects.toThrow(/kvHeads/);
        await expect(writeMixtralModel(join(workDir, "x.gguf"), {...options, tensorType: "F16", heads: 5})).rejects.toThrow(/heads/);
        expect(existsSync(join(workDir, "x.gguf"))).toBe(false);
    });
});
