import fs from "node:fs/promises";
import {readGgufHeader, type GgufFileInfo} from "../gguf/ggufHeader.js";
import {AdapterError} from "../errors.js";
import {tensorByteSize} from "../gguf/ggmlTypeSizes.js";
import {scanGgufHeader} from "../gguf/scanGgufHeader.js";
import type {AdapterShape, ModelShape} from "./adapterFit.js";

/**
 * Reads a GGUF LoRA adapter's header (node-llama-cpp's pure-JS reader) and checks what llama.cpp
 * requires of it: general.type = adapter, adapter.type = lora, and every tensor's bytes inside the file.
 */
export type AdapterFile = AdapterShape & {alpha: number};

export async function readAdapterFile(path: string): Promise<AdapterFile> {
    const hint = "Pass a GGUF LoRA adapter (convert a PEFT adapter folder with `mixtral adapter convert <folder>`).";
    let fileBytes: number;
    try {
        const stat = await fs.stat(path);
        if (!stat.isFile()) throw new Error("not a file");
        fileBytes = stat.size;
    } catch (error) {
        throw new AdapterError(`LoRA adapter not found: ${path}`, {hint, cause: error});
    }
    let info: GgufFileInfo;
    try {
        const handle = await fs.open(path, "r");
        const magic = Buffer.alloc(4);
        await handle.read(magic, 0, 4, 0).finally(() => handle.close());
        if (magic.toString("latin1") !== "GGUF") throw new Error("no GGUF signature");
        // Our bounded reading first: node-llama-cpp's reader loops on some damaged headers.
        await scanGgufHeader(path);
        info = await readGgufHeader(path);
    } catch (error) {
        throw new AdapterError(`${path} is not a GGUF LoRA adapter (its header does not read as GGUF).`, {hint, cause: error});
    }
    const general = info.metadata?.general as {type?: unknown, architecture?: unknown} | undefined;
    const adapterMetadata = (info.metadata as {adapter?: {type?: unknown, lora?: {alpha?: unknown}}} | undefined)?.adapter;
    if (general?.type !== "adapter" || adapterMetadata?.type !== "lora")
        throw new AdapterError(`${path} is not a LoRA adapter (general.type is "${String(general?.type)}", adapter.type "${String(adapterMetadata?.type)}").`, {
            hint: general?.type === "model" || general?.type == null ? "That looks like a model: pass it with --model, and adapters with --lora." : hint
        });

    const tensors = new Map<string, number[]>();
    let dataEnd = info.infoEndOffset ?? 0;
    for (const tensor of info.tensorInfo ?? []) {
        tensors.set(tensor.name, tensor.dimensions.map(Number));
        const bytes = tensorByteSize(tensor.ggmlType, tensor.dimensions);
        dataEnd = Math.max(dataEnd, Number(tensor.fileOffset) + (bytes ?? 0));
    }
    if (dataEnd > fileBytes)
        throw new AdapterError(`${path} is truncated: its tensors need ${dataEnd} bytes but the file has ${fileBytes}.`, {hint: "Convert or download the adapter again."});
    return {path, architecture: String(general.architecture ?? ""), tensors, alpha: Number(adapterMetadata.lora?.alpha ?? 0)};
}

/** The architecture and tensor shapes of a model, from the header already read to validate it. */
export function modelShapeOf(path: string, info: GgufFileInfo): ModelShape {
    return {
        path,
        architecture: String(info.metadata?.general?.architecture ?? ""),
        tensors: new Map((info.tensorInfo ?? []).map((tensor) => [tensor.name, tensor.dimensions.map(Number)]))
    };
}
