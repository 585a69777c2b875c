import fs from "node:fs/promises";
import {ModelFileError} from "../errors.js";
import {float16BitsToFloat32} from "../gguf/write/float16.js";

/**
 * A reader for the safetensors format (8-byte little-endian header length, a JSON header, then the
 * raw tensor bytes), one tensor at a time: memory holds the header and the tensor being read, never
 * the whole file. Only the float types LoRA adapters ship in are decoded.
 */
export type SafetensorsDtype = "F32" | "F16" | "BF16";

export type SafetensorsTensor = {
    name: string,
    dtype: string,
    /** row-major, outermost first (numpy/torch order) */
    shape: number[],
    /** byte range inside the data section */
    begin: number,
    end: number
};

const bytesPerElement: Record<SafetensorsDtype, number> = {F32: 4, F16: 2, BF16: 2};
/** The format's own limit on the JSON header (safetensors' MAX_HEADER_SIZE). */
const maxHeaderBytes = 100_000_000;

export class SafetensorsFile {
    private constructor(
        readonly path: string,
        private readonly handle: fs.FileHandle,
        private readonly dataStart: number,
        readonly tensors: ReadonlyMap<string, SafetensorsTensor>
    ) {}

    static async open(path: string): Promise<SafetensorsFile> {
        let handle: fs.FileHandle;
        try {
            handle = await fs.open(path, "r");
        } catch (error) {
            throw new ModelFileError(`Cannot read ${path}.`, {hint: "Check that the adapter folder has adapter_model.safetensors.", cause: error});
        }
        try {
            const fileBytes = (await handle.stat()).size;
            const damaged = (what: string) => new ModelFileError(`${path} is not a complete safetensors file: ${what}.`, {
                hint: "The file is truncated or damaged; download the adapter again."
            });
            if (fileBytes < 8) throw damaged(`it has only ${fileBytes} bytes`);
            const lengthBytes = Buffer.alloc(8);
            await handle.read(lengthBytes, 0, 8, 0);
            const headerBytes = Number(lengthBytes.readBigUInt64LE(0));
            if (headerBytes > maxHeaderBytes || 8 + headerBytes > fileBytes) throw damaged(`its header claims ${headerBytes} bytes`);
            const headerBuffer = Buffer.alloc(headerBytes);
            await handle.read(headerBuffer, 0, headerBytes, 8);
            let header: unknown;
            try {
                header = JSON.parse(headerBuffer.toString("utf8"));
            } catch {
                throw damaged("its JSON header does not parse");
            }
            if (typeof header !== "object" || header == null || Array.isArray(header)) throw damaged("its header is not a JSON object");

            const dataStart = 8 + headerBytes;
            const dataBytes = fileBytes - dataStart;
            const tensors = new Map<string, SafetensorsTensor>();
            for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
                if (name === "__metadata__") continue;
                const entry = raw as {dtype?: unknown, shape?: unknown, data_offsets?: unknown};
                const shape = entry.shape;
                const offsets = entry.data_offsets;
                if (typeof entry.dtype !== "string" || !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
                    !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
                    throw damaged(`the header entry of ${name} is malformed`);
                const [begin, end] = offsets as [number, number];
                if (end > dataBytes)
                    throw damaged(`tensor ${name} ends at byte ${end} of the data but the file holds ${dataBytes}`);
                const elements = (shape as number[]).reduce((a, b) => a * b, 1);
                const size = bytesPerElement[entry.dtype as SafetensorsDtype];
                if (size != null && end - begin !== elements * size)
                    throw damaged(`tensor ${name} has ${end - begin} bytes for ${elements} ${entry.dtype} values`);
                tensors.set(name, {name, dtype: entry.dtype, shape: shape as number[], begin, end});
            }
            return new SafetensorsFile(path, handle, dataStart, tensors);
        } catch (error) {
            await handle.close();
            throw error;
        }
    }

    /** The tensor's values as float32, in storage order. */
    async readFloat32(name: string): Promise<Float32Array> {
        const tensor = this.tensors.get(name);
        if (tensor == null) throw new Error(`no tensor ${name} in ${this.path}`);
        const dtype = tensor.dtype as SafetensorsDtype;
        if (bytesPerElement[dtype] == null)
            throw new ModelFileError(`Tensor ${name} in ${this.path} is ${tensor.dtype}; only F32, F16 and BF16 adapters can be converted.`, {
                hint: "Save the adapter in a float type (e.g. merge or re-save it with torch_dtype=float16)."
            });
        // never from Node's shared pool: the typed views in decode() need their own aligned buffer
        const bytes = Buffer.alloc(tensor.end - tensor.begin);
        const {bytesRead} = await this.handle.read(bytes, 0, bytes.length, this.dataStart + tensor.begin);
        if (bytesRead !== bytes.length)
            throw new ModelFileError(`${this.path} is not a complete safetensors file: tensor ${name} is cut short.`, {hint: "Download the adapter again."});
        return decode(bytes, dtype);
    }

    close(): Promise<void> {
        return this.handle.close();
    }
}

function decode(bytes: Buffer, dtype: SafetensorsDtype): Float32Array {
    // Buffer.alloc of a whole tensor starts at offset 0 of its own ArrayBuffer: typed views need no copy
    const count = bytes.length / bytesPerElement[dtype];
    if (dtype === "F32") return new Float32Array(bytes.buffer, bytes.byteOffset, count);
    const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    const out = new Float32Array(count);
    if (dtype === "BF16") {
        // bfloat16 is the upper half of a float32
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
    } else {
        const table = halfTable();
        for (let i = 0; i < count; i++) out[i] = table[halves[i]!]!;
    }
    return out;
}

let halfValues: Float32Array | undefined;

/** Every float16 value as float32 (256 KiB), built on first use. */
function halfTable(): Float32Array {
    if (halfValues == null) {
        halfValues = new Float32Array(65536);
        for (let bits = 0; bits < 65536; bits++) halfValues[bits] = float16BitsToFloat32(bits);
    }
    return halfValues;
}
