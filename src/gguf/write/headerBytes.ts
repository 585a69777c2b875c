/**
 * Serializes the GGUF v3 header: magic, version, counts, metadata key/values and tensor infos
 * (gguf.cpp's `gguf_write_to_buf` layout). All integers little-endian; strings are a uint64 byte
 * length followed by UTF-8 bytes without a terminator.
 */
import {ggufValueTypeIds, type GgufMetadataEntries, type GgufValue} from "./ggufValues.js";

export class HeaderBuilder {
    private readonly parts: Uint8Array[] = [];
    private size = 0;

    get length(): number {
        return this.size;
    }

    uint32(value: number): this {
        const bytes = Buffer.alloc(4);
        bytes.writeUInt32LE(value);
        return this.push(bytes);
    }

    int32(value: number): this {
        const bytes = Buffer.alloc(4);
        bytes.writeInt32LE(value);
        return this.push(bytes);
    }

    uint64(value: number | bigint): this {
        const bytes = Buffer.alloc(8);
        bytes.writeBigUInt64LE(BigInt(value));
        return this.push(bytes);
    }

    float32(value: number): this {
        const bytes = Buffer.alloc(4);
        bytes.writeFloatLE(value);
        return this.push(bytes);
    }

    string(value: string): this {
        const bytes = Buffer.from(value, "utf8");
        return this.uint64(bytes.length).push(bytes);
    }

    zeros(count: number): this {
        return this.push(new Uint8Array(count));
    }

    keyValue(key: string, entry: GgufValue): this {
        this.string(key);
        switch (entry.type) {
            case "uint32": return this.uint32(ggufValueTypeIds.uint32).uint32(entry.value);
            case "int32": return this.uint32(ggufValueTypeIds.int32).int32(entry.value);
            case "uint64": return this.uint32(ggufValueTypeIds.uint64).uint64(entry.value);
            case "float32": return this.uint32(ggufValueTypeIds.float32).float32(entry.value);
            case "bool": return this.uint32(ggufValueTypeIds.bool).push(Uint8Array.of(entry.value ? 1 : 0));
            case "string": return this.uint32(ggufValueTypeIds.string).string(entry.value);
            case "stringArray":
                this.arrayHeader(ggufValueTypeIds.string, entry.value.length);
                for (const item of entry.value)
                    this.string(item);
                return this;
            case "float32Array": {
                this.arrayHeader(ggufValueTypeIds.float32, entry.value.length);
                return this.push(new Uint8Array(Float32Array.from(entry.value).buffer));
            }
            case "int32Array": {
                this.arrayHeader(ggufValueTypeIds.int32, entry.value.length);
                return this.push(new Uint8Array(Int32Array.from(entry.value).buffer));
            }
        }
    }

    metadata(entries: GgufMetadataEntries): this {
        for (const [key, entry] of Object.entries(entries))
            this.keyValue(key, entry);
        return this;
    }

    toBuffer(): Buffer {
        return Buffer.concat(this.parts, this.size);
    }

    private arrayHeader(itemTypeId: number, count: number): this {
        return this.uint32(ggufValueTypeIds.array).uint32(itemTypeId).uint64(count);
    }

    private push(bytes: Uint8Array): this {
        this.parts.push(bytes);
        this.size += bytes.length;
        return this;
    }
}
