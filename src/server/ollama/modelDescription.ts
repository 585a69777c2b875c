import {createHash} from "node:crypto";
import {stat} from "node:fs/promises";
import {readGgufHeader} from "../../engine/inspect.js";
import {architectureMetadata} from "../../gguf/architectureMetadata.js";

/** What Ollama's /api/tags, /api/show and /api/ps say about the model, read once from its file. */
export type ModelDescription = {
    sizeBytes: number,
    modifiedAt: string,
    /**
     * Ollama's digest is the sha256 of the file; hashing a 26 GB file would take minutes, so this is
     * the sha256 of its path, size and modification time: stable while the file is, not the content's.
     */
    digest: string,
    details: {parent_model: string, format: "gguf", family: string, families: string[], parameter_size: string, quantization_level: string},
    /** GGUF metadata as Ollama's model_info lists it: `general.architecture`, `llama.context_length`, … (no tokenizer arrays). */
    modelInfo: Record<string, unknown>,
    chatTemplate: string
};

const described = new Map<string, Promise<ModelDescription>>();

export function describeModel(path: string): Promise<ModelDescription> {
    let description = described.get(path);
    if (description == null) {
        description = readDescription(path);
        // A failed read is tried again next time.
        description.catch(() => described.delete(path));
        described.set(path, description);
    }
    return description;
}

async function readDescription(path: string): Promise<ModelDescription> {
    const [file, header] = await Promise.all([stat(path), readGgufHeader(path)]);
    const metadata = header.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
    const general = metadata.general ?? {};
    const family = String(general.architecture ?? "llama");
    const parameters = (header.fullTensorInfo ?? header.tensorInfo ?? [])
        .reduce((sum, tensor) => sum + tensor.dimensions.reduce<number>((product, dimension) => product * Number(dimension), 1), 0);
    const template = (metadata.tokenizer as {chat_template?: unknown} | undefined)?.chat_template;
    return {
        sizeBytes: file.size,
        modifiedAt: file.mtime.toISOString(),
        digest: createHash("sha256").update(`${path}\0${file.size}\0${file.mtimeMs}`).digest("hex"),
        details: {
            parent_model: "", format: "gguf", family, families: [family],
            parameter_size: formatParameters(parameters),
            quantization_level: fileTypeNames[Number(general.file_type)] ?? "unknown"
        },
        modelInfo: flattenMetadata({general: {...general, parameter_count: parameters}, [family]: architectureMetadata(header)}),
        chatTemplate: typeof template === "string" ? template : ""
    };
}

/** llama.cpp's `enum llama_ftype` (general.file_type): the quant names Ollama shows. */
const fileTypeNames: Record<number, string> = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M",
    13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS",
    21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16"
};

/** 46_702_792_704 → "46.7B", as Ollama writes parameter sizes. */
function formatParameters(count: number): string {
    if (count >= 1e9) return `${(count / 1e9).toFixed(1)}B`;
    if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
    return `${(count / 1e3).toFixed(1)}K`;
}

/** {general: {architecture: "llama"}} → {"general.architecture": "llama"}; arrays (token lists) are left out. */
function flattenMetadata(value: Record<string, unknown>, prefix = ""): Record<string, unknown> {
    const flat: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value)) {
        if (entry == null || Array.isArray(entry)) continue;
        if (typeof entry === "object") Object.assign(flat, flattenMetadata(entry as Record<string, unknown>, `${prefix}${key}.`));
        else flat[`${prefix}${key}`] = typeof entry === "bigint" ? Number(entry) : entry;
    }
    return flat;
}
