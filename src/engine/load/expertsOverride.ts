import type {LlamaModelOptions} from "node-llama-cpp";
import type {ValidatedGguf} from "../../gguf/validateGguf.js";

/**
 * llama.cpp's `--override-kv <arch>.expert_used_count=int:N` as node-llama-cpp passes it on a model
 * load: a whole JS number becomes an int override (LlamaModel.js, ggufMetadataOverridesToList).
 * llama.cpp reads the count into the model's hyperparameters at load and builds every graph with it,
 * so a different N needs a new load. None when N is the file's own: the load is the plain one.
 */
export function expertsOverride(file: ValidatedGguf): LlamaModelOptions["metadataOverrides"] {
    const {used, fileUsed} = file.experts;
    if (used === fileUsed) return undefined;
    const architecture = String(file.info.metadata?.general?.architecture ?? "llama");
    return {[architecture]: {expert_used_count: used}} as LlamaModelOptions["metadataOverrides"];
}
