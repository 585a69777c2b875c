import fs from "node:fs";
import path from "node:path";

/**
 * Damaged copies of a valid GGUF file, each broken in one way a real download or a wrong file can
 * be: the CLI must answer every one with a sentence, not a native crash.
 */
export function writeCorruptVariants(sourcePath: string, directory: string) {
    const source = fs.readFileSync(sourcePath);
    const write = (name: string, bytes: Buffer | string) => {
        const file = path.join(directory, name);
        fs.writeFileSync(file, bytes);
        return file;
    };

    const absurdTensorCount = Buffer.from(source);
    absurdTensorCount.writeBigUInt64LE(2n ** 60n, 8);

    const absurdOffset = Buffer.from(source);
    const outputOffsetAt = tensorOffsetPosition(source, "output.weight");
    absurdOffset.writeBigUInt64LE(2n ** 50n, outputOffsetAt);

    const otherArchitecture = Buffer.from(source);
    const architectureAt = stringValuePosition(source, "general.architecture");
    otherArchitecture.write("gemma", architectureAt, "latin1");

    return {
        directory: (() => {
            const dir = path.join(directory, "a-directory.gguf");
            fs.mkdirSync(dir, {recursive: true});
            return dir;
        })(),
        empty: write("empty.gguf", Buffer.alloc(0)),
        text: write("readme.gguf", "This is not a model, just some text.\n"),
        wrongMagic: write("wrong-magic.gguf", Buffer.concat([Buffer.from("GGML"), source.subarray(4)])),
        truncatedHeader: write("truncated-header.gguf", source.subarray(0, 200)),
        truncatedData: write("truncated-data.gguf", source.subarray(0, source.length - 4096)),
        absurdTensorCount: write("absurd-count.gguf", absurdTensorCount),
        absurdOffset: write("absurd-offset.gguf", absurdOffset),
        otherArchitecture: write("other-architecture.gguf", otherArchitecture),
        missing: path.join(directory, "does-not-exist.gguf")
    };
}

/** Where a GGUF string key's value bytes start (after its type and length fields). */
function stringValuePosition(file: Buffer, key: string): number {
    const keyAt = file.indexOf(lengthPrefixed(key));
    if (keyAt < 0) throw new Error(`key ${key} not found`);
    // key (u64 length + bytes), value type (u32), string length (u64)
    return keyAt + 8 + key.length + 4 + 8;
}

/** Where a tensor info's data offset field is: after its name, dimension count, dimensions and type. */
function tensorOffsetPosition(file: Buffer, name: string): number {
    const nameAt = file.indexOf(lengthPrefixed(name));
    if (nameAt < 0) throw new Error(`tensor ${name} not found`);
    let at = nameAt + 8 + name.length;
    const dimensions = file.readUInt32LE(at);
    at += 4 + dimensions * 8 + 4;
    return at;
}

function lengthPrefixed(text: string): Buffer {
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(text.length));
    return Buffer.concat([length, Buffer.from(text, "latin1")]);
}
