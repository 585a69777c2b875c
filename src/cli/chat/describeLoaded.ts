import path from "node:path";
import type {GeneratorInfo} from "../../generator/textGenerator.js";
import {describeExperts} from "../../gguf/expertsUsed.js";

/**
 * The one line chat prints on start: model, quant, backend, GPU layers, context and threads, and
 * the experts a token uses when --experts changed them (or the server that answers instead).
 */
export function describeLoaded(info: GeneratorInfo, contextSize: number): string {
    const model = info.endpoint == null ? path.basename(info.model) : info.model;
    if (info.endpoint != null) return `model ${model} through ${info.endpoint}` + (contextSize > 0 ? `, ${contextSize}-token context` : "");
    const parts = [
        `model ${model}`,
        info.quant,
        info.backend,
        info.gpuLayers == null ? undefined : `${info.gpuLayers} GPU layer${info.gpuLayers === 1 ? "" : "s"}`,
        `${contextSize}-token context`,
        info.threads == null ? undefined : `${info.threads} thread${info.threads === 1 ? "" : "s"}`,
        // Only when --experts moved the dial off the file's own setting.
        info.experts == null || info.experts.used === info.experts.fileUsed ? undefined : describeExperts(info.experts)
    ];
    return parts.filter((part) => part != null && part !== "").join(", ");
}
