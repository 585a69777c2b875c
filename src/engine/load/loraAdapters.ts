import type {LlamaContextOptions} from "node-llama-cpp";
import {checkAdapterFitsModel} from "../../adapters/adapterFit.js";
import {modelShapeOf, readAdapterFile} from "../../adapters/readAdapterFile.js";
import type {ValidatedGguf} from "../../gguf/validateGguf.js";
import {nativeFilePath} from "../../windowsPaths.js";

/** A GGUF LoRA adapter and its scale (llama.cpp's --lora-scaled; 1 = as trained, 0 = off). */
export type LoraAdapter = {path: string, scale: number};

/**
 * llama.cpp aborts (or ignores an adapter) on some mismatches it meets while creating the context;
 * every adapter is checked against the model's header first, so a wrong one is one clear error.
 */
export async function checkLoraAdapters(adapters: readonly LoraAdapter[] | undefined, model: ValidatedGguf): Promise<void> {
    if (adapters == null || adapters.length === 0) return;
    const shape = modelShapeOf(model.path, model.info);
    for (const adapter of adapters) checkAdapterFitsModel(await readAdapterFile(adapter.path), shape);
}

/** node-llama-cpp's createContext({lora}) option (llama.cpp opens the files: long Windows paths prefixed). */
export function loraContextOption(adapters: readonly LoraAdapter[] | undefined, platform: NodeJS.Platform = process.platform): LlamaContextOptions["lora"] {
    if (adapters == null || adapters.length === 0) return undefined;
    return {adapters: adapters.map((adapter) => ({filePath: nativeFilePath(adapter.path, platform), scale: adapter.scale}))};
}
