/**
 * Block encoders for the tensor types, ported from ggml's reference quantizers in ggml-quants.c
 * (`quantize_row_q8_0_ref`, `quantize_row_q4_0_ref`) so a file written here holds the same bytes
 * llama.cpp's own tools would write for the same float values. C does this arithmetic in float32,
 * hence the Math.fround after each step.
 */
import {endianness} from "node:os";
import {float32ToFloat16Bits} from "./float16.js";
import {tensorTypeLayouts, type TensorType} from "./tensorTypes.js";

// GGUF is little-endian and F32 data is copied straight from Float32Array memory.
if (endianness() !== "LE")
    throw new Error("The GGUF writer needs a little-endian host");

const qk = 32;

/** Q8_0: half scale d = amax/127, then 32 signed bytes round(x/d) (roundf: halves away from zero). */
export function quantizeBlockQ8_0(src: Float32Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    let amax = 0;
    for (let j = 0; j < qk; j++) {
        const magnitude = Math.abs(src[srcOffset + j]!);
        if (magnitude > amax)
            amax = magnitude;
    }

    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    writeHalf(dst, dstOffset, float32ToFloat16Bits(d));

    for (let j = 0; j < qk; j++) {
        const x0 = Math.fround(src[srcOffset + j]! * id);
        // roundf: x0 is a float32 of magnitude <= 127, so x0 +/- 0.5 is exact in a double and trunc is exact
        dst[dstOffset + 2 + j] = Math.trunc(x0 < 0 ? x0 - 0.5 : x0 + 0.5) & 0xFF;
    }
}

/**
 * Q4_0: d = max / -8 where max is the value (with its sign) of largest magnitude, so that value maps to
 * nibble 0 exactly; q = min(15, trunc(x/d + 8.5)). Byte j holds value j in its low nibble and value
 * j+16 in its high nibble.
 */
export function quantizeBlockQ4_0(src: Float32Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < qk; j++) {
        const v = src[srcOffset + j]!;
        if (amax < Math.abs(v)) {
            amax = Math.abs(v);
            max = v;
        }
    }

    const d = Math.fround(max / -8);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    writeHalf(dst, dstOffset, float32ToFloat16Bits(d));

    for (let j = 0; j < qk / 2; j++) {
        const x0 = Math.fround(src[srcOffset + j]! * id);
        const x1 = Math.fround(src[srcOffset + qk / 2 + j]! * id);
        const xi0 = Math.min(15, Math.trunc(Math.fround(x0 + 8.5)));
        const xi1 = Math.min(15, Math.trunc(Math.fround(x1 + 8.5)));
        dst[dstOffset + 2 + j] = xi0 | (xi1 << 4);
    }
}

/**
 * Encodes `src` (a whole number of blocks) as `type` into `dst` at `dstOffset`; returns the bytes written.
 */
export function encodeBlocks(type: TensorType, src: Float32Array, dst: Uint8Array, dstOffset: number): number {
    const {blockSize, blockBytes} = tensorTypeLayouts[type];
    if (src.length % blockSize !== 0)
        throw new Error(`${type} data must be a whole number of ${blockSize}-value blocks, got ${src.length} values`);

    switch (type) {
        case "F32":
            dst.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), dstOffset);
            break;
        case "F16":
            for (let i = 0; i < src.length; i++)
                writeHalf(dst, dstOffset + 2 * i, float32ToFloat16Bits(src[i]!));
            break;
        case "Q8_0":
            for (let block = 0; block < src.length / qk; block++)
                quantizeBlockQ8_0(src, block * qk, dst, dstOffset + block * blockBytes);
            break;
        case "Q4_0":
            for (let block = 0; block < src.length / qk; block++)
                quantizeBlockQ4_0(src, block * qk, dst, dstOffset + block * blockBytes);
            break;
    }
    return (src.length / blockSize) * blockBytes;
}

/** Convenience for tests and small tensors: encode a whole array into a new buffer. */
export function encodeTensorData(type: TensorType, values: Float32Array): Uint8Array {
    const {blockSize, blockBytes} = tensorTypeLayouts[type];
    const out = new Uint8Array((values.length / blockSize) * blockBytes);
    encodeBlocks(type, values, out, 0);
    return out;
}

function writeHalf(dst: Uint8Array, offset: number, half: number): void {
    dst[offset] = half & 0xFF;
    dst[offset + 1] = half >>> 8;
}
