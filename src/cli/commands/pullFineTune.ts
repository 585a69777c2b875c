import {parseModelSpec} from "../../models/resolveName.js";
import {loadCatalog} from "../../models/catalog.js";
import type {FineTuneSpec} from "../../models/fineTunes.js";
import {chooseBase, prepareFineTuneAdapter} from "../fineTune.js";
import {interruptController} from "../interrupt.js";
import {writeJson, writeOut} from "../ui/stdout.js";
import {pullWithProgress, type PullOptions} from "./pull.js";

/**
 * `mixtral pull aurora[:QUANT]`: the base file (the plan's quant when none is given) and the
 * fine-tune's PEFT adapter, both verified, then the adapter converted to GGUF; prints both paths.
 */
export async function runPullFineTune(spec: FineTuneSpec, options: PullOptions) {
    const interrupt = interruptController();
    try {
        const {baseName} = await chooseBase(spec, {});
        const baseSpec = parseModelSpec(baseName, loadCatalog());
        if (baseSpec.kind === "path") throw new Error(`${baseName} is not a catalog name`);
        const base = await pullWithProgress(baseSpec, {signal: interrupt.signal, reuse: options.reuse});
        const adapter = await prepareFineTuneAdapter(spec, base.path, {signal: interrupt.signal, reuse: options.reuse});
        const name = spec.quant != null ? `${spec.fineTune.name}:${spec.quant}` : spec.fineTune.name;
        if (options.json === true)
            writeJson({name, model: {name: baseName, ...base}, adapter: {path: adapter.path, bytes: adapter.bytes, converted: adapter.converted, files: adapter.files}});
        else writeOut(`${base.path}\n${adapter.path}\n`);
    } finally {
        interrupt.dispose();
    }
}
