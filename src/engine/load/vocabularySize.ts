import {ModelFileError} from "../../errors.js";
import type {ValidatedGguf} from "../../gguf/validateGguf.js";

/**
 * n_vocab (llama_vocab_n_tokens): the length of tokenizer.ggml.tokens, which the binding does not
 * expose; the file was validated (gguf/validateLlamaMetadata.ts) before it loaded, so the list is there.
 */
export function vocabularySizeOf(file: ValidatedGguf): number {
    const tokens = file.scan.metadata.get("tokenizer.ggml.tokens");
    if (tokens?.type !== "array")
        throw new ModelFileError(`${file.path} has no vocabulary (tokenizer.ggml.tokens).`);
    return tokens.values.length;
}
