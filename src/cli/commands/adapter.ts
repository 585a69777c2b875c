import path from "node:path";
import {readBaseModelShape} from "../../adapters/baseModelShape.js";
import {convertPeftAdapter} from "../../adapters/convertPeftAdapter.js";
import {ModelNotFoundError, UsageError} from "../../errors.js";
import {loadCatalog} from "../../models/catalog.js";
import {formatBytes} from "../../formatBytes.js";
import {loraPairs} from "../../adapters/convertPeftAdapter.js";
import {parseModelSpec} from "../../models/resolveName.js";
import {fileSize, storePathFor} from "../../models/store.js";
import {startProgress} from "../ui/progress.js";
import {writeJson, writeOut} from "../ui/stdout.js";
import {logLine} from "../ui/terminal.js";

export type AdapterConvertOptions = {output?: string, base?: string, type: "f32" | "f16", json?: boolean};

/** `mixtral adapter convert <folder>`: a PEFT LoRA adapter → a GGUF adapter for --lora; prints its path. */
export async function runAdapterConvert(folder: string, options: AdapterConvertOptions) {
    const output = path.resolve(options.output ?? path.join(folder, "adapter_model.gguf"));
    if (!output.toLowerCase().endsWith(".gguf")) throw new UsageError(`The output ${output} should end in .gguf.`, {hint: "Pass -o <file>.gguf."});
    const base = options.base == null ? undefined : await readBaseModelShape(await baseModelPath(options.base));
    const progress = startProgress("Converting", {plainWhenPiped: false});
    let converted;
    try {
        converted = await convertPeftAdapter({
            folder, output, base,
            type: options.type === "f16" ? "F16" : "F32",
            onTensorWritten: ({index, count}) => progress.update((index + 1) / count)
        });
    } finally {
        progress.stop();
    }
    if (options.json === true) writeJson(converted);
    else {
        logLine(`${loraPairs(converted.tensors)} (rank ${converted.ranks.join(", ")}, alpha ${converted.alpha}), ${formatBytes(converted.fileBytes)}; apply with --lora ${converted.output}`);
        writeOut(converted.output + "\n");
    }
}

/** --base: a GGUF path, or a catalog name already in the store. */
async function baseModelPath(value: string): Promise<string> {
    const spec = parseModelSpec(value, loadCatalog());
    if (spec.kind === "path") return spec.path;
    const stored = storePathFor(spec);
    if (await fileSize(stored) == null)
        throw new ModelNotFoundError(`${value} is not downloaded, so it cannot serve as --base.`, {hint: `Run: mixtral pull ${value}  (or pass the path of the base GGUF)`});
    return stored;
}
