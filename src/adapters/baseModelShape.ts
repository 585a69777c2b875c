import {AdapterError} from "../errors.js";
import {validateGgufFile} from "../gguf/validateGguf.js";
import type {BaseModelShape} from "./convertPeftAdapter.js";
import {modelShapeOf} from "./readAdapterFile.js";

/** The base model's tensors and attention heads, read from its GGUF header (no weights loaded). */
export async function readBaseModelShape(path: string): Promise<BaseModelShape> {
    const file = await validateGgufFile(path);
    const shape = modelShapeOf(path, file.info);
    const attention = (file.info.metadata as {[architecture: string]: {attention?: {head_count?: unknown, head_count_kv?: unknown}}})[shape.architecture]?.attention;
    const headCount = Number(attention?.head_count);
    const headCountKv = Number(attention?.head_count_kv ?? headCount);
    if (!(headCount > 0 && headCountKv > 0))
        throw new AdapterError(`${path} does not say how many attention heads it has.`, {hint: "Pass the Mixtral GGUF the adapter was trained on with --base."});
    return {...shape, headCount, headCountKv};
}
