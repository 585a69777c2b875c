import {pullFile, type PullHooks} from "../../models/acquisition.js";
import {loadCatalog} from "../../models/catalog.js";
import {remoteUrlOf} from "../../models/download.js";
import {findFineTune, type FineTuneSpec} from "../../models/fineTunes.js";
import {parseModelSpec} from "../../models/resolveName.js";
import {storePathFor} from "../../models/store.js";
import {UsageError} from "../../errors.js";
import {interruptController} from "../interrupt.js";
import {startPullProgress} from "../ui/pullProgress.js";
import {writeJson, writeOut} from "../ui/stdout.js";
import {logLine} from "../ui/terminal.js";

export type PullOptions = {json?: boolean, reuse?: boolean, verbose?: boolean};

/** `mixtral pull <name>`: download (or find) a model, verify it, print its path on stdout. */
export async function runPull(name: string, options: PullOptions) {
    const fineTune = findFineTune(name, loadCatalog());
    if (fineTune != null) return withPullHooks(options, (hooks) => pullFineTuneAndPrint(fineTune, hooks, options));
    const spec = parseModelSpec(name, loadCatalog());
    if (spec.kind === "path") throw new UsageError(`${name} is a local path; there is nothing to pull.`, {hint: "Pass a catalog name (see `mixtral models`), hf:<owner>/<repo>/<file>.gguf or an https URL."});
    // The URL never carries HF_TOKEN (it travels in a header), so it is safe to show.
    if (options.verbose === true) logLine(`from ${remoteUrlOf(spec)}\nto   ${storePathFor(spec)}`);
    await withPullHooks(options, async (hooks) => {
        const result = await pullFile(spec, hooks);
        if (options.json === true) writeJson({name: spec.kind === "catalog" ? spec.entry.name : spec.label, ...result});
        else writeOut(result.path + "\n");
    });
}

/**
 * `mixtral pull aurora[:QUANT]`: the base file (the plan's quant when none is given) and the
 * fine-tune's PEFT adapter, both verified, then the adapter converted to GGUF; prints both paths.
 */
async function pullFineTuneAndPrint(spec: FineTuneSpec, hooks: PullHooks, options: PullOptions) {
    // The conversion (adapters/) loads only for a fine-tune.
    const {pullFineTune} = await import("../../models/fineTuneAdapter.js");
    const {baseName, base, adapter} = await pullFineTune(spec, hooks);
    const name = spec.quant != null ? `${spec.fineTune.name}:${spec.quant}` : spec.fineTune.name;
    if (options.json === true)
        writeJson({name, model: {name: baseName, ...base}, adapter: {path: adapter.path, bytes: adapter.bytes, converted: adapter.converted, files: adapter.files}});
    else writeOut(`${base.path}\n${adapter.path}\n`);
}

/** Ctrl+C stops the pull (a partial download is kept for resume); progress goes to stderr. */
async function withPullHooks(options: PullOptions, pull: (hooks: PullHooks) => Promise<void>) {
    const interrupt = interruptController();
    const progress = startPullProgress();
    try {
        await pull({signal: interrupt.signal, onProgress: progress.onProgress, reuse: options.reuse});
    } finally {
        progress.stop();
        interrupt.dispose();
    }
}
