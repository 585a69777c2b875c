/**
 * The inverse of quantize.ts, as ggml's `dequantize_row_q8_0` / `dequantize_row_q4_0` compute it:
 * Q8_0 x = d*q, Q4_0 x = d*(nibble - 8). Used to check, through the native engine, that the quantized
 * layouts written here mean to llama.cpp what they mean to us.
 */
import {float16BitsToFloat32} from "../../src/gguf/write/float16.js";
import {encodeTensorData} from "../../src/gguf/write/quantize.js";
import {tensorTypeLayouts, type TensorType} from "../../src/gguf/write/tensorTypes.js";

export function decodeTensorData(type: TensorType, bytes: Uint8Array, count: number): Float32Array {
    const out = new Float32Array(count);
    const {blockSize, blockBytes} = tensorTypeLayouts[type];
    const half = (offset: number) => float16BitsToFloat32(bytes[offset]! | (bytes[offset + 1]! << 8));
    for (let block = 0; block < count / blockSize; block++) {
        const at = block * blockBytes;
        const first = block * blockSize;
        switch (type) {
            case "F32":
                out[first] = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getFloat32(0, true);
                break;
            case "F16":
                out[first] = half(at);
                break;
            case "Q8_0": {
                const d = half(at);
                for (let j = 0; j < 32; j++)
                    out[first + j] = d * ((bytes[at + 2 + j]! << 24) >> 24);
                break;
            }
            case "Q4_0": {
                const d = half(at);
                for (let j = 0; j < 16; j++) {
                    out[first + j] = d * ((bytes[at + 2 + j]! & 0x0F) - 8);
                    out[first + 16 + j] = d * ((bytes[at + 2 + j]! >> 4) - 8);
                }
                break;
            }
        }
    }
    return out;
}

/** The values `type` can hold that are nearest to `values` (quantize, then dequantize). */
export function roundTripThroughType(type: TensorType, values: Float32Array): Float32Array {
    return decodeTensorData(type, encodeTensorData(type, values), values.length);
}
