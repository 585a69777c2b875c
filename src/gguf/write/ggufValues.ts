/**
 * Typed GGUF metadata values. JavaScript numbers do not say whether they are uint32, int32 or float32,
 * and llama.cpp checks the stored type of every key it reads, so each value carries its GGUF type.
 */
export type GgufValue =
    | {type: "uint32", value: number}
    | {type: "int32", value: number}
    | {type: "uint64", value: bigint}
    | {type: "float32", value: number}
    | {type: "bool", value: boolean}
    | {type: "string", value: string}
    | {type: "stringArray", value: readonly string[]}
    | {type: "float32Array", value: ArrayLike<number>}
    | {type: "int32Array", value: ArrayLike<number>};

/** Metadata in the order it is written; object key order is insertion order for these dotted keys. */
export type GgufMetadataEntries = Readonly<Record<string, GgufValue>>;

/** `enum gguf_type` from gguf.h */
export const ggufValueTypeIds = {
    uint8: 0,
    int8: 1,
    uint16: 2,
    int16: 3,
    uint32: 4,
    int32: 5,
    float32: 6,
    bool: 7,
    string: 8,
    array: 9,
    uint64: 10,
    int64: 11,
    float64: 12
} as const;

export const ggufValue = {
    uint32(value: number): GgufValue {
        assertInteger(value, 0, 2 ** 32 - 1, "uint32");
        return {type: "uint32", value};
    },
    int32(value: number): GgufValue {
        assertInteger(value, -(2 ** 31), 2 ** 31 - 1, "int32");
        return {type: "int32", value};
    },
    uint64(value: bigint): GgufValue {
        if (value < 0n || value >= 2n ** 64n)
            throw new RangeError(`${value} is not a uint64`);
        return {type: "uint64", value};
    },
    float32(value: number): GgufValue {
        return {type: "float32", value};
    },
    bool(value: boolean): GgufValue {
        return {type: "bool", value};
    },
    string(value: string): GgufValue {
        return {type: "string", value};
    },
    stringArray(value: readonly string[]): GgufValue {
        return {type: "stringArray", value};
    },
    float32Array(value: ArrayLike<number>): GgufValue {
        return {type: "float32Array", value};
    },
    int32Array(value: ArrayLike<number>): GgufValue {
        for (let i = 0; i < value.length; i++)
            assertInteger(value[i]!, -(2 ** 31), 2 ** 31 - 1, "int32");
        return {type: "int32Array", value};
    }
};

function assertInteger(value: number, min: number, max: number, typeName: string): void {
    if (!Number.isInteger(value) || value < min || value > max)
        throw new RangeError(`${value} is not a ${typeName}`);
}
