import {describe, expect, it} from "vitest";
import {bytesPerGeneratedToken, decodeBytesPerToken, rooflineTokensPerSecond, type TensorSummary} from "../../src/bench/roofline.js";
import {knownBandwidthFor} from "../../src/bench/knownBandwidths.js";

const F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8;

describe("decode roofline arithmetic", () => {
    it("counts one embedding row, the whole head, attention, and 2 of 8 experts", () => {
        const tensors: TensorSummary[] = [
            {name: "token_embd.weight", ggmlType: F32, dimensions: [4, 10]}, // one row: 4 × 4 B = 16
            {name: "output.weight", ggmlType: F16, dimensions: [4, 10]}, // 40 × 2 B = 80
            {name: "output_norm.weight", ggmlType: F32, dimensions: [4]}, // 16
            {name: "blk.0.attn_q.weight", ggmlType: F32, dimensions: [4, 4]}, // 64
            {name: "blk.0.ffn_gate_inp.weight", ggmlType: F32, dimensions: [4, 8]}, // router: 128
            {name: "blk.0.ffn_gate_exps.weight", ggmlType: Q8_0, dimensions: [32, 2, 8]} // 16 blocks × 34 B = 544, × 2/8 = 136
        ];
        const bytes = decodeBytesPerToken(tensors, {expertCount: 8, expertUsedCount: 2, layerCount: 1, kvEmbeddingLength: 2, kvBytesPerElement: 2});
        expect(bytes).toEqual({weightBytes: 16 + 80 + 16 + 64 + 128 + 136, kvBytesPerCachedToken: 2 * 1 * 2 * 2});
        // tg5 from an empty cache reads on average 2 cached tokens per step.
        expect(bytesPerGeneratedToken(bytes!, 0, 5)).toBe(440 + 8 * 2);
        expect(bytesPerGeneratedToken(bytes!, 100, 1)).toBe(440 + 8 * 100);
    });

    it("reads the whole embedding matrix when the output head is tied to it", () => {
        const bytes = decodeBytesPerToken(
            [{name: "token_embd.weight", ggmlType: F16, dimensions: [4, 10]}],
            {expertCount: 0, expertUsedCount: 0, layerCount: 0, kvEmbeddingLength: 0, kvBytesPerElement: 2}
        );
        expect(bytes?.weightBytes).toBe(8 + 80);
    });

    it("applies the expert fraction to the older one-tensor-per-expert layout too", () => {
        const perExpert = Array.from({length: 8}, (_, expert): TensorSummary => ({name: `blk.0.ffn_up.${expert}.weight`, ggmlType: F32, dimensions: [4, 4]}));
        const bytes = decodeBytesPerToken(perExpert, {expertCount: 8, expertUsedCount: 2, layerCount: 1, kvEmbeddingLength: 0, kvBytesPerElement: 2});
        expect(bytes?.weightBytes).toBe(2 * 64);
    });

    it("gives Mixtral 8x7B Q4_0 about 7.2 GB a token (12.8 B active parameters) and 130 tok/s on an RTX 3090", () => {
        const embd = 4096, ff = 14336, kv = 1024, vocab = 32000, layers = 32;
        const tensors: TensorSummary[] = [
            {name: "token_embd.weight", ggmlType: Q4_0, dimensions: [embd, vocab]},
            {name: "output.weight", ggmlType: Q4_0, dimensions: [embd, vocab]},
            {name: "output_norm.weight", ggmlType: F32, dimensions: [embd]}
        ];
        for (let layer = 0; layer < layers; layer++)
            tensors.push(
                {name: `blk.${layer}.attn_norm.weight`, ggmlType: F32, dimensions: [embd]},
                {name: `blk.${layer}.ffn_norm.weight`, ggmlType: F32, dimensions: [embd]},
                {name: `blk.${layer}.attn_q.weight`, ggmlType: Q4_0, dimensions: [embd, embd]},
                {name: `blk.${layer}.attn_k.weight`, ggmlType: Q4_0, dimensions: [embd, kv]},
                {name: `blk.${layer}.attn_v.weight`, ggmlType: Q4_0, dimensions: [embd, kv]},
                {name: `blk.${layer}.attn_output.weight`, ggmlType: Q4_0, dimensions: [embd, embd]},
                {name: `blk.${layer}.ffn_gate_inp.weight`, ggmlType: F32, dimensions: [embd, 8]},
                {name: `blk.${layer}.ffn_gate_exps.weight`, ggmlType: Q4_0, dimensions: [embd, ff, 8]},
                {name: `blk.${layer}.ffn_up_exps.weight`, ggmlType: Q4_0, dimensions: [embd, ff, 8]},
                {name: `blk.${layer}.ffn_down_exps.weight`, ggmlType: Q4_0, dimensions: [ff, embd, 8]}
            );
        const q4 = (elements: number) => elements / 32 * 18;
        const perLayer = 2 * embd * 4 + q4(2 * embd * embd + 2 * embd * kv) + embd * 8 * 4 + q4(3 * embd * ff * 2);
        const expected = q4(embd) + q4(embd * vocab) + embd * 4 + layers * perLayer;
        const bytes = decodeBytesPerToken(tensors, {expertCount: 8, expertUsedCount: 2, layerCount: layers, kvEmbeddingLength: kv, kvBytesPerElement: 2});
        expect(bytes?.weightBytes).toBe(expected);
        expect(expected / 1e9).toBeCloseTo(7.176, 3);
        // 32 layers × 2 (K, V) × 1024 × 2 B = 128 KiB per cached token.
        expect(bytes?.kvBytesPerCachedToken).toBe(131072);
        expect(rooflineTokensPerSecond(936, expected)).toBeCloseTo(130.4, 1);
    });

    it("looks up known devices by the names backends report, the longest name first", () => {
        expect(knownBandwidthFor(["NVIDIA GeForce RTX 3090"])?.gbs).toBe(936);
        expect(knownBandwidthFor(["NVIDIA GeForce RTX 3090 Ti"])?.gbs).toBe(1008);
        expect(knownBandwidthFor(["NVIDIA H100 80GB HBM3"])?.gbs).toBe(3350);
        expect(knownBandwidthFor(["Apple M2 Ultra"])?.gbs).toBe(800);
        expect(knownBandwidthFor(["Apple M3 Max"])?.gbs).toBe(400);
        expect(knownBandwidthFor(["Some Unknown GPU"])).toBeUndefined();
    });
});
