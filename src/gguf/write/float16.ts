/**
 * float32 -> IEEE half conversion, bit for bit what ggml does (`ggml_compute_fp32_to_fp16` in ggml-impl.h,
 * from Maratyszcza's FP16 library): round to nearest, ties to even, overflow to infinity, NaN to 0x7E00.
 * Every step is a float32 operation in C, so each JavaScript step is rounded back with Math.fround
 * (one double-precision step followed by fround gives the correctly rounded float32 result).
 */
const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

function floatBits(value: number): number {
    scratchFloat[0] = value;
    return scratchBits[0]!;
}

function floatFromBits(bits: number): number {
    scratchBits[0] = bits >>> 0;
    return scratchFloat[0]!;
}

const scaleToInfinity = 2 ** 112;
const scaleToZero = 2 ** -110;

export function float32ToFloat16Bits(value: number): number {
    const f = Math.fround(value);
    let base = Math.fround(Math.fround(Math.abs(f) * scaleToInfinity) * scaleToZero);

    const w = floatBits(f);
    const shl1W = (w << 1) >>> 0;
    const sign = (w & 0x80000000) >>> 0;
    let bias = (shl1W & 0xFF000000) >>> 0;
    if (bias < 0x71000000)
        bias = 0x71000000;

    base = Math.fround(floatFromBits((bias >>> 1) + 0x07800000) + base);
    const bits = floatBits(base);
    const exponentBits = (bits >>> 13) & 0x00007C00;
    const mantissaBits = bits & 0x00000FFF;
    const nonSign = exponentBits + mantissaBits;
    return ((sign >>> 16) | (shl1W > 0xFF000000 ? 0x7E00 : nonSign)) & 0xFFFF;
}

/** Half -> float, exact (every half is a float32): reading F16 adapters, tests and dequantization checks. */
export function float16BitsToFloat32(half: number): number {
    const sign = (half & 0x8000) !== 0 ? -1 : 1;
    const exponent = (half >>> 10) & 0x1F;
    const mantissa = half & 0x3FF;
    if (exponent === 0)
        return sign * mantissa * 2 ** -24;
    if (exponent === 0x1F)
        return mantissa === 0 ? sign * Infinity : NaN;
    return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
