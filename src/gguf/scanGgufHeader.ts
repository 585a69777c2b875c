import fs from "node:fs/promises";

/**
 * Our own bounded reading of a GGUF header (magic, counts, metadata, tensor table), done before
 * node-llama-cpp's reader or llama.cpp see the file. Their readers trust the lengths they read: a
 * bit flip that turns a tensor's n_dims into 2³¹, a value's type into "array", or an array's item
 * type into "array" sends node-llama-cpp's reader into a loop that eats CPU and memory. Here every
 * length is checked against the bytes that remain in the file before anything is read or
 * allocated, so any header is judged in one linear pass (gguf.cpp's `gguf_init_from_file_impl`
 * rules: at most 4 dimensions, no nested arrays, known value types).
 */

export type GgufScalar = number | bigint | boolean | string;
export type GgufScannedValue =
    | {type: ScalarTypeName, value: GgufScalar}
    | {type: "array", itemType: ScalarTypeName, values: GgufScalar[]};
export type GgufScannedTensor = {name: string, dimensions: number[], ggmlType: number, offset: bigint};
export type GgufScan = {
    version: number,
    metadata: Map<string, GgufScannedValue>,
    tensors: GgufScannedTensor[],
    /** where the tensor table ends (the data section starts at the next alignment boundary) */
    headerBytes: number
};

/** Why the header cannot be read, naming the field; `pastEnd` when a length points past the file's end (a cut file, or a damaged length). */
export class GgufHeaderError extends Error {
    constructor(message: string, readonly pastEnd = false) {
        super(message);
    }
}

type ScalarTypeName = "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "bool" | "string" | "uint64" | "int64" | "float64";
const arrayTypeId = 9;
const scalarTypes: Record<number, {name: ScalarTypeName, bytes: number}> = {
    0: {name: "uint8", bytes: 1},
    1: {name: "int8", bytes: 1},
    2: {name: "uint16", bytes: 2},
    3: {name: "int16", bytes: 2},
    4: {name: "uint32", bytes: 4},
    5: {name: "int32", bytes: 4},
    6: {name: "float32", bytes: 4},
    7: {name: "bool", bytes: 1},
    // a string is at least its 8-byte length
    8: {name: "string", bytes: 8},
    10: {name: "uint64", bytes: 8},
    11: {name: "int64", bytes: 8},
    12: {name: "float64", bytes: 8}
};
const maxDimensions = 4;
/** Real headers are a few MiB at most (a 256k-token vocabulary with merges); a bigger one is damage. */
const maxHeaderBytes = 256 * 1024 * 1024;
const firstReadBytes = 4 * 1024 * 1024;

/** Not enough bytes read yet: read more and start again. */
class NeedMoreBytes extends Error {}

export async function scanGgufHeader(path: string): Promise<GgufScan> {
    const handle = await fs.open(path, "r");
    try {
        const fileBytes = (await handle.stat()).size;
        for (let window = Math.min(fileBytes, firstReadBytes); ; window = Math.min(fileBytes, window * 4)) {
            const buffer = Buffer.alloc(window);
            const {bytesRead} = await handle.read(buffer, 0, window, 0);
            try {
                return parseHeader(buffer.subarray(0, bytesRead), fileBytes);
            } catch (error) {
                if (!(error instanceof NeedMoreBytes)) throw error;
                if (window >= fileBytes) throw new GgufHeaderError("the file ends inside its header", true);
                if (window >= maxHeaderBytes) throw new GgufHeaderError(`its header is larger than ${maxHeaderBytes / 1024 / 1024} MiB`);
            }
        }
    } finally {
        await handle.close();
    }
}

function parseHeader(bytes: Buffer, fileBytes: number): GgufScan {
    let at = 0;
    const need = (count: number | bigint, what: string) => {
        // Judged against the whole file first: a length past its end is damage, not a short read.
        if (BigInt(at) + BigInt(count) > BigInt(fileBytes)) throw new GgufHeaderError(`${what} runs past the end of the file`, true);
        if (at + Number(count) > bytes.length) throw new NeedMoreBytes();
    };
    const u32 = (what: string) => { need(4, what); const v = bytes.readUInt32LE(at); at += 4; return v; };
    const u64 = (what: string) => { need(8, what); const v = bytes.readBigUInt64LE(at); at += 8; return v; };
    const string = (what: string) => {
        const length = u64(`the length of ${what}`);
        need(length, what);
        const text = bytes.toString("utf8", at, at + Number(length));
        at += Number(length);
        return text;
    };
    const scalar = (typeId: number, what: string): GgufScalar => {
        switch (typeId) {
            case 0: need(1, what); return bytes.readUInt8(at++);
            case 1: need(1, what); return bytes.readInt8(at++);
            case 2: need(2, what); at += 2; return bytes.readUInt16LE(at - 2);
            case 3: need(2, what); at += 2; return bytes.readInt16LE(at - 2);
            case 4: return u32(what);
            case 5: need(4, what); at += 4; return bytes.readInt32LE(at - 4);
            case 6: need(4, what); at += 4; return bytes.readFloatLE(at - 4);
            case 7: need(1, what); return bytes.readUInt8(at++) !== 0;
            case 8: return string(what);
            case 10: return u64(what);
            case 11: need(8, what); at += 8; return bytes.readBigInt64LE(at - 8);
            case 12: need(8, what); at += 8; return bytes.readDoubleLE(at - 8);
            default: throw new GgufHeaderError(`${what} has unknown value type ${typeId}`);
        }
    };

    need(4, "the signature");
    if (bytes.toString("latin1", 0, 4) !== "GGUF") throw new GgufHeaderError("it does not start with the GGUF signature");
    at = 4;
    const version = u32("the version");
    if (version !== 2 && version !== 3) throw new GgufHeaderError(`unsupported GGUF version ${version}`);
    const tensorCount = u64("the tensor count");
    const keyCount = u64("the metadata count");
    // Each key/value takes at least 8 + 4 + 1 bytes and each tensor entry 8 + 4 + 8 + 4 + 8.
    if (tensorCount * 32n > BigInt(fileBytes)) throw new GgufHeaderError(`its header claims ${tensorCount} tensors, more than the file can hold`, true);
    if (keyCount * 13n > BigInt(fileBytes)) throw new GgufHeaderError(`its header claims ${keyCount} metadata keys, more than the file can hold`, true);

    const metadata = new Map<string, GgufScannedValue>();
    let previous = "";
    for (let index = 0n; index < keyCount; index++) {
        // A damaged value puts the reader out of step: the key before is where to look.
        const key = string(`metadata key #${index}${previous === "" ? "" : ` (the one after ${previous})`}`);
        previous = key;
        const typeId = u32(`the type of ${key}`);
        if (typeId !== arrayTypeId) {
            const type = scalarTypes[typeId];
            if (type == null) throw new GgufHeaderError(`metadata ${key} has unknown value type ${typeId}`);
            metadata.set(key, {type: type.name, value: scalar(typeId, `metadata ${key}`)});
            continue;
        }
        const itemTypeId = u32(`the item type of ${key}`);
        if (itemTypeId === arrayTypeId) throw new GgufHeaderError(`metadata ${key} is an array of arrays, which GGUF does not allow`);
        const itemType = scalarTypes[itemTypeId];
        if (itemType == null) throw new GgufHeaderError(`metadata ${key} is an array of unknown type ${itemTypeId}`);
        const count = u64(`the length of ${key}`);
        need(count * BigInt(itemType.bytes), `metadata ${key} (${count} items)`);
        const values: GgufScalar[] = new Array<GgufScalar>(Number(count));
        for (let item = 0; item < values.length; item++) values[item] = scalar(itemTypeId, `metadata ${key}`);
        metadata.set(key, {type: "array", itemType: itemType.name, values});
    }

    const tensors: GgufScannedTensor[] = [];
    for (let index = 0n; index < tensorCount; index++) {
        const name = string(`the name of tensor #${index}`);
        const dimensionCount = u32(`the dimension count of tensor ${name}`);
        if (dimensionCount < 1 || dimensionCount > maxDimensions)
            throw new GgufHeaderError(`tensor ${name} claims ${dimensionCount} dimensions (at most ${maxDimensions})`);
        const dimensions: number[] = [];
        let elements = 1n;
        for (let d = 0; d < dimensionCount; d++) {
            const size = u64(`a dimension of tensor ${name}`);
            elements *= size;
            // gguf.cpp refuses element counts beyond int64; no real tensor comes near 2⁵³ either.
            if (size > BigInt(Number.MAX_SAFE_INTEGER) || elements > BigInt(Number.MAX_SAFE_INTEGER))
                throw new GgufHeaderError(`tensor ${name} has an impossible shape`);
            dimensions.push(Number(size));
        }
        const ggmlType = u32(`the type of tensor ${name}`);
        const offset = u64(`the data offset of tensor ${name}`);
        tensors.push({name, dimensions, ggmlType, offset});
    }
    return {version, metadata, tensors, headerBytes: at};
}

/** A metadata entry's value when it is a single value (not an array). */
export function scalarValue(entry: GgufScannedValue | undefined): GgufScalar | undefined {
    return entry == null || entry.type === "array" ? undefined : entry.value;
}
