import {AdapterError} from "../errors.js";

/**
 * Does a GGUF LoRA adapter fit a model? The checks of llama.cpp's llama_adapter_lora_init_impl (which
 * aborts or throws deep inside context creation) plus the ones it skips (the expert count of stacked
 * expert adapters), made before the native side sees the adapter, each failure one sentence.
 */
export type TensorShapes = ReadonlyMap<string, readonly number[]>;

export type AdapterShape = {path: string, architecture: string, tensors: TensorShapes};
export type ModelShape = {path: string, architecture: string, tensors: TensorShapes};

export function checkAdapterFitsModel(adapter: AdapterShape, model: ModelShape): void {
    const mismatch = (what: string) => new AdapterError(`The LoRA adapter ${adapter.path} does not fit ${model.path}: ${what}.`, {
        hint: "An adapter only applies to the base model it was trained on (Aurora: Mixtral-8x7B-Instruct-v0.1, e.g. instruct:Q4_K_M); check --model and the adapter."
    });
    if (adapter.architecture !== model.architecture)
        throw mismatch(`it is for the "${adapter.architecture}" architecture, the model is "${model.architecture}"`);

    const pairs = new Map<string, {a?: readonly number[], b?: readonly number[]}>();
    for (const [name, dims] of adapter.tensors) {
        const match = /^(.+)\.lora_([ab])$/.exec(name);
        if (match == null) {
            // llama.cpp skips norm vectors (mergekit adds them); anything else it rejects
            if (name.endsWith("_norm.weight")) continue;
            throw mismatch(`its tensor ${name} is neither a .lora_a nor a .lora_b matrix`);
        }
        const pair = pairs.get(match[1]!) ?? {};
        pair[match[2] as "a" | "b"] = dims;
        pairs.set(match[1]!, pair);
    }
    if (pairs.size === 0) throw mismatch("it has no LoRA tensors");

    for (const [base, {a, b}] of pairs) {
        if (a == null || b == null) throw mismatch(`${base} has a lora_${a == null ? "a" : "b"} tensor missing`);
        const weight = model.tensors.get(base);
        if (weight == null) throw mismatch(`the model has no tensor ${base}`);
        const shape = (dims: readonly number[]) => `[${dims.join(", ")}]`;
        const at = (dims: readonly number[], index: number) => dims[index] ?? 1;
        if (base === "token_embd.weight") {
            // lora_b is not transposed for embeddings and A/B swap roles (llm_build_inp_embd)
            if (at(weight, 0) !== at(b, 1) || at(weight, 1) !== at(a, 1) || at(a, 0) !== at(b, 0))
                throw mismatch(`${base} is ${shape(weight)} in the model but the adapter's lora_a is ${shape(a)} and lora_b ${shape(b)}`);
            continue;
        }
        if (at(weight, 0) !== at(a, 0) || at(weight, 1) !== at(b, 1) || at(weight, 2) !== at(a, 2) || at(weight, 2) !== at(b, 2))
            throw mismatch(`${base} is ${shape(weight)} in the model but the adapter's lora_a is ${shape(a)} and lora_b ${shape(b)}`);
        if (at(a, 1) !== at(b, 0))
            throw mismatch(`${base} has lora_a of rank ${at(a, 1)} but lora_b of rank ${at(b, 0)}`);
    }
}
