/**
 * The ggml tensor types this writer can produce, with the ids and block layouts from ggml.h / ggml.c.
 * A "block" is the unit a row is stored in: 1 value for the float types, 32 for the quantized ones.
 */
export type TensorType = "F32" | "F16" | "Q8_0" | "Q4_0";

export const tensorTypes = ["F32", "F16", "Q8_0", "Q4_0"] as const satisfies readonly TensorType[];

type TensorTypeLayout = {
    /** `enum ggml_type` value written in the tensor info */
    ggmlTypeId: number,
    /** values per block */
    blockSize: number,
    /** bytes per block */
    blockBytes: number,
    /** `enum llama_ftype` of a file whose big tensors are all of this type (`general.file_type`) */
    llamaFileType: number
};

export const tensorTypeLayouts: Readonly<Record<TensorType, TensorTypeLayout>> = {
    F32: {ggmlTypeId: 0, blockSize: 1, blockBytes: 4, llamaFileType: 0},
    F16: {ggmlTypeId: 1, blockSize: 1, blockBytes: 2, llamaFileType: 1},
    // block_q4_0: ggml_half d; uint8_t qs[16]
    Q4_0: {ggmlTypeId: 2, blockSize: 32, blockBytes: 2 + 16, llamaFileType: 2},
    // block_q8_0: ggml_half d; int8_t qs[32]
    Q8_0: {ggmlTypeId: 8, blockSize: 32, blockBytes: 2 + 32, llamaFileType: 7}
};

export function isTensorType(value: string): value is TensorType {
    return (tensorTypes as readonly string[]).includes(value);
}

/** Bytes a tensor of `elementCount` values takes; the caller guarantees whole blocks. */
export function tensorByteSize(type: TensorType, elementCount: number): number {
    const {blockSize, blockBytes} = tensorTypeLayouts[type];
    return (elementCount / blockSize) * blockBytes;
}
