/**
 * A streaming GGUF v3 writer. The header (metadata and tensor infos) is built in memory; tensor data is
 * then produced one tensor at a time, chunk by chunk, from each tensor's generator and encoded straight
 * to disk, so memory use is bounded by the chunk size and the write buffer, not by the model size.
 *
 * What llama.cpp's reader (ggml/src/gguf.cpp) insists on, and this writer therefore guarantees:
 *  - tensor data offsets are relative to the data section and strictly sequential in tensor-info order,
 *    each tensor padded to `general.alignment` (the loader rejects any other offset);
 *  - the data section starts at the header size rounded up to the alignment;
 *  - a quantized tensor's row length (dimensions[0]) is a multiple of its 32-value block;
 *  - tensor names are unique and shorter than GGML_MAX_NAME (64 bytes with the terminator).
 */
import {open, rm, type FileHandle} from "node:fs/promises";
import {HeaderBuilder} from "./headerBytes.js";
import {ggufValue, type GgufMetadataEntries} from "./ggufValues.js";
import {encodeBlocks} from "./quantize.js";
import {tensorByteSize, tensorTypeLayouts, type TensorType} from "./tensorTypes.js";

export type GgufTensor = {
    name: string,
    /** ggml order: dimensions[0] is the row length (the fastest-varying index), at most 4 dimensions */
    dimensions: readonly number[],
    type: TensorType,
    /**
     * Produces the tensor's float values in storage order, in chunks of any length. It is called once,
     * when the tensor's turn to be written comes, and each chunk is fully consumed before the next one is
     * asked for, so a generator may refill and yield the same buffer. An async generator may read its
     * values from another file as it goes (the LoRA converter does).
     */
    data: () => Iterable<Float32Array> | AsyncIterable<Float32Array>
};

export type WriteGgufOptions = {
    /** power of two, default 32 (GGUF_DEFAULT_ALIGNMENT); written as `general.alignment` */
    alignment?: number,
    /** called after each tensor's data is written */
    onTensorWritten?: (progress: {name: string, index: number, count: number, fileBytesWritten: number}) => void
};

export type WriteGgufResult = {
    fileBytes: number,
    /** file offset of the tensor data section */
    dataOffset: number
};

const ggufMagic = 0x46554747; // "GGUF" read as a little-endian uint32
const ggufVersion = 3;
const maxTensorNameBytes = 63;
const writeBufferBytes = 4 * 1024 * 1024;

export async function writeGguf(
    path: string,
    metadata: GgufMetadataEntries,
    tensors: readonly GgufTensor[],
    {alignment = 32, onTensorWritten}: WriteGgufOptions = {}
): Promise<WriteGgufResult> {
    if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0)
        throw new RangeError(`alignment must be a power of two, got ${alignment}`);
    if ("general.alignment" in metadata)
        throw new Error("general.alignment is written from the alignment option; leave it out of the metadata");

    const layouts = layOutTensors(tensors, alignment);
    const header = new HeaderBuilder()
        .uint32(ggufMagic)
        .uint32(ggufVersion)
        .uint64(tensors.length)
        .uint64(Object.keys(metadata).length + 1)
        .metadata({"general.alignment": ggufValue.uint32(alignment), ...metadata});
    for (const layout of layouts) {
        header.string(layout.tensor.name).uint32(layout.tensor.dimensions.length);
        for (const dimension of layout.tensor.dimensions)
            header.uint64(dimension);
        header.uint32(tensorTypeLayouts[layout.tensor.type].ggmlTypeId).uint64(layout.offset);
    }
    header.zeros(padding(header.length, alignment));
    const dataOffset = header.length;

    const file = await open(path, "w");
    try {
        const out = new BufferedFileWriter(file);
        await out.write(header.toBuffer());
        for (const [index, layout] of layouts.entries()) {
            await writeTensorData(out, layout.tensor, layout.bytes);
            await out.write(new Uint8Array(padding(layout.bytes, alignment)));
            onTensorWritten?.({name: layout.tensor.name, index, count: layouts.length, fileBytesWritten: out.position});
        }
        await out.flush();
        await file.close();
        return {fileBytes: out.position, dataOffset};
    } catch (error) {
        // never leave a truncated GGUF behind: a loader would fail on it in a confusing way
        await file.close().catch(() => undefined);
        await rm(path, {force: true});
        throw error;
    }
}

type TensorLayout = {tensor: GgufTensor, elementCount: number, bytes: number, offset: number};

function layOutTensors(tensors: readonly GgufTensor[], alignment: number): TensorLayout[] {
    const names = new Set<string>();
    let offset = 0;
    return tensors.map((tensor) => {
        const {name, dimensions, type} = tensor;
        if (names.has(name))
            throw new Error(`duplicate tensor name ${name}`);
        names.add(name);
        if (Buffer.byteLength(name) > maxTensorNameBytes)
            throw new Error(`tensor name ${name} is longer than ${maxTensorNameBytes} bytes`);
        if (dimensions.length < 1 || dimensions.length > 4 || dimensions.some((d) => !Number.isSafeInteger(d) || d < 1))
            throw new Error(`tensor ${name} has invalid dimensions [${dimensions.join(", ")}]`);
        const {blockSize} = tensorTypeLayouts[type];
        if (dimensions[0]! % blockSize !== 0)
            throw new Error(`tensor ${name}: ${type} needs rows (dimensions[0] = ${dimensions[0]}) that are a multiple of ${blockSize}`);

        const elementCount = dimensions.reduce((product, d) => product * d, 1);
        const bytes = tensorByteSize(type, elementCount);
        const layout = {tensor, elementCount, bytes, offset};
        offset += bytes + padding(bytes, alignment);
        return layout;
    });
}

async function writeTensorData(out: BufferedFileWriter, tensor: GgufTensor, expectedBytes: number): Promise<void> {
    const encoder = new ChunkEncoder(tensor.type);
    let written = 0;
    for await (const chunk of tensor.data()) {
        const bytes = encoder.encode(chunk);
        written += bytes.length;
        if (written > expectedBytes)
            throw new Error(`tensor ${tensor.name} produced more values than its dimensions hold`);
        await out.write(bytes);
    }
    if (written !== expectedBytes || encoder.hasPartialBlock)
        throw new Error(`tensor ${tensor.name} produced ${written} bytes of data, expected ${expectedBytes}`);
}

/** Encodes chunks of any length, carrying an incomplete quantization block over to the next chunk. */
class ChunkEncoder {
    private readonly blockSize: number;
    private readonly blockBytes: number;
    private readonly pending: Float32Array;
    private pendingCount = 0;
    private scratch = new Uint8Array(0);

    constructor(private readonly type: TensorType) {
        ({blockSize: this.blockSize, blockBytes: this.blockBytes} = tensorTypeLayouts[type]);
        this.pending = new Float32Array(this.blockSize);
    }

    get hasPartialBlock(): boolean {
        return this.pendingCount !== 0;
    }

    /** The returned bytes are valid until the next call. */
    encode(chunk: Float32Array): Uint8Array {
        const maxBytes = Math.ceil((this.pendingCount + chunk.length) / this.blockSize) * this.blockBytes;
        if (this.scratch.length < maxBytes)
            this.scratch = new Uint8Array(maxBytes);

        let used = 0;
        let outLength = 0;
        if (this.pendingCount > 0) {
            used = Math.min(this.blockSize - this.pendingCount, chunk.length);
            this.pending.set(chunk.subarray(0, used), this.pendingCount);
            this.pendingCount += used;
            if (this.pendingCount === this.blockSize) {
                outLength += encodeBlocks(this.type, this.pending, this.scratch, 0);
                this.pendingCount = 0;
            }
        }

        const wholeBlocksEnd = used + Math.floor((chunk.length - used) / this.blockSize) * this.blockSize;
        if (wholeBlocksEnd > used)
            outLength += encodeBlocks(this.type, chunk.subarray(used, wholeBlocksEnd), this.scratch, outLength);

        const rest = chunk.subarray(wholeBlocksEnd);
        this.pending.set(rest, this.pendingCount);
        this.pendingCount += rest.length;
        return this.scratch.subarray(0, outLength);
    }
}

/** Collects small writes into one buffer; large ones go straight to the file. */
class BufferedFileWriter {
    private readonly buffer = new Uint8Array(writeBufferBytes);
    private buffered = 0;
    position = 0;

    constructor(private readonly file: FileHandle) {}

    async write(bytes: Uint8Array): Promise<void> {
        if (this.buffered + bytes.length > this.buffer.length)
            await this.flush();
        if (bytes.length >= this.buffer.length / 2) {
            await this.writeFully(bytes);
        } else {
            this.buffer.set(bytes, this.buffered);
            this.buffered += bytes.length;
        }
        this.position += bytes.length;
    }

    async flush(): Promise<void> {
        await this.writeFully(this.buffer.subarray(0, this.buffered));
        this.buffered = 0;
    }

    private async writeFully(bytes: Uint8Array): Promise<void> {
        let offset = 0;
        while (offset < bytes.length) {
            const {bytesWritten} = await this.file.write(bytes, offset, bytes.length - offset);
            offset += bytesWritten;
        }
    }
}

function padding(size: number, alignment: number): number {
    return (alignment - (size % alignment)) % alignment;
}
