import fs from "node:fs";
import path from "node:path";

/**
 * Bit flips in a GGUF header that send a trusting reader into a loop: a tensor's dimension count,
 * a value's type turned into "array", an array whose items became arrays.
 */
export function writeDamagedHeaders(sourcePath: string, directory: string) {
    const source = fs.readFileSync(sourcePath);
    const write = (name: string, bytes: Buffer) => {
        const file = path.join(directory, name);
        fs.writeFileSync(file, bytes);
        return file;
    };
    const withUint32 = (at: number, value: number) => {
        const copy = Buffer.from(source);
        copy.writeUInt32LE(value, at);
        return copy;
    };
    const dimensionCountAt = keyPosition(source, "output.weight") + 8 + "output.weight".length;
    const blockCountTypeAt = keyPosition(source, "llama.block_count") + 8 + "llama.block_count".length;
    const scoresItemTypeAt = keyPosition(source, "tokenizer.ggml.scores") + 8 + "tokenizer.ggml.scores".length + 4;
    return {
        dimensionsTwoPow31: write("dims-2pow31.gguf", withUint32(dimensionCountAt, 2 ** 31)),
        dimensionsAllOnes: write("dims-ffffffff.gguf", withUint32(dimensionCountAt, 0xFFFFFFFF)),
        dimensionsZero: write("dims-zero.gguf", withUint32(dimensionCountAt, 0)),
        valueBecameArray: write("value-became-array.gguf", withUint32(blockCountTypeAt, 9)),
        arrayOfArrays: write("array-of-arrays.gguf", withUint32(scoresItemTypeAt, 9)),
        unknownValueType: write("unknown-value-type.gguf", withUint32(blockCountTypeAt, 77))
    };
}

/** Where a length-prefixed key or tensor name starts. */
function keyPosition(file: Buffer, key: string): number {
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(key.length));
    const at = file.indexOf(Buffer.concat([length, Buffer.from(key, "latin1")]));
    if (at < 0) throw new Error(`${key} not found`);
    return at;
}
