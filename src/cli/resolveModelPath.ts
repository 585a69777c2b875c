import readline from "node:readline/promises";
import {InterruptedError, ModelNotFoundError, UsageError} from "../errors.js";
import {loadCatalog} from "../models/catalog.js";
import type {LoraAdapter} from "../engine/load/loraAdapters.js";
import type {PullTarget} from "../models/download.js";
import {findFineTune} from "../models/fineTunes.js";
import {formatBytes} from "../models/formatBytes.js";
import {parseModelSpec} from "../models/resolveName.js";
import {fileSize, storePathFor} from "../models/store.js";
import {checkKvCacheSettings, type KvCacheSettings} from "../engine/load/kvCacheSettings.js";
import type {PlanFlags} from "./planDefaultModel.js";

export type ResolveModelOptions = {
    /** May we ask the user questions (stdin and stderr are a TTY)? */
    interactive: boolean,
    /** --yes: consent given in advance (e.g. to download). */
    yes?: boolean,
    verbose?: boolean,
    signal?: AbortSignal,
    /** Without --model: the flags the hardware plan honours (--gpu, --quant, --gpu-layers, --context-size). */
    planFlags?: PlanFlags
};

export type ResolvedModel = {
    path: string,
    /** Set when a plan chose them; flags given by the user always win. */
    gpuLayers?: number,
    contextSize?: number,
    /** The KV-cache types and flash attention the plan fitted the context with. */
    kvCache?: KvCacheSettings,
    /** LoRA adapters a catalog fine-tune (e.g. aurora) applies on top of the file. */
    lora?: LoraAdapter[],
    /** One line saying why this file and placement were chosen (printed with --verbose). */
    reason?: string
};

/**
 * Turns the --model value into a local GGUF path: a path as given; a catalog name, hf: name or
 * URL as its file in the store — pulled first when missing, after asking (TTY) or with --yes;
 * otherwise the error says which `mixtral pull` to run. A model already in the store is used
 * without any network request.
 */
export async function resolveModel(model: string | undefined, options: ResolveModelOptions): Promise<ResolvedModel> {
    // ---- No --model: the hardware plan picks a catalog name, resolved as `--model <name>` would be. ----
    if (model == null) {
        const {planDefaultModel} = await import("./planDefaultModel.js");
        const planned = await planDefaultModel(options.planFlags);
        const resolved = await resolveModel(planned.model, options);
        return {...resolved, gpuLayers: planned.gpuLayers, contextSize: planned.contextSize, kvCache: planned.kvCache, reason: `${planned.reason}; ${resolved.reason ?? resolved.path}`};
    }
    if (options.planFlags?.quant != null)
        throw new UsageError("--quant picks a catalog file, so it does not combine with --model.", {hint: `Pass --model ${options.planFlags.quant} for that quant, or drop --quant.`});

    // ---- A catalog fine-tune (aurora[:quant]): its base file plus its LoRA adapter. ----
    const fineTune = findFineTune(model, loadCatalog());
    if (fineTune != null) {
        const {resolveFineTune} = await import("./fineTune.js");
        return resolveFineTune(fineTune, options);
    }

    // ---- --model given: a path, a catalog name, hf:<owner>/<repo>/<file>.gguf or a URL. ----
    const spec = parseModelSpec(model, loadCatalog());
    if (spec.kind === "path") return {path: spec.path};
    const stored = storePathFor(spec);
    if (await fileSize(stored) != null) return {path: stored, reason: `${describe(spec)} from the store (${stored})`};
    if (!(options.yes === true || (options.interactive && await askToDownload(spec, options.signal))))
        throw new ModelNotFoundError(`${describe(spec)} is not downloaded.`, {
            hint: `Run: mixtral pull ${spec.kind === "catalog" ? spec.entry.name : model}` + (options.interactive ? "" : "  (or pass --yes to download it now)")
        });
    const {pullWithProgress} = await import("./commands/pull.js");
    const pulled = await pullWithProgress(spec, {signal: options.signal});
    return {path: pulled.path, reason: `${describe(spec)} pulled into the store (${pulled.path})`};
}

/** What chat, complete and serve do first: --model (or the plan) as a file, asking only when a person is at the terminal. */
export async function resolveModelFlags(flags: PlanFlags & {model?: string, yes?: boolean, verbose?: boolean}, signal: AbortSignal): Promise<ResolvedModel> {
    // An impossible cache combination fails now, not after a plan, a download or a load.
    checkKvCacheSettings({typeK: flags.cacheTypeK, typeV: flags.cacheTypeV, flashAttention: flags.flashAttention});
    return await resolveModel(flags.model, {
        interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
        yes: flags.yes,
        verbose: flags.verbose,
        signal,
        planFlags: flags
    });
}

function describe(spec: PullTarget) {
    return spec.kind === "catalog" ? spec.entry.name : spec.label;
}

async function askToDownload(spec: PullTarget, signal: AbortSignal | undefined): Promise<boolean> {
    const size = spec.kind === "catalog" ? ` (${spec.entry.bytesExact ? "" : "about "}${formatBytes(spec.entry.bytes)})` : "";
    return askYesNo(`${describe(spec)} is not downloaded. Download it now${size}? [y/N] `, signal);
}

/** A yes/no question on the terminal; Ctrl+C is an interruption, Ctrl+D or a closed stdin a "no". */
export async function askYesNo(question: string, signal: AbortSignal | undefined): Promise<boolean> {
    const prompt = readline.createInterface({input: process.stdin, output: process.stderr});
    try {
        const answer = await new Promise<string | undefined>((resolve, reject) => {
            // On a terminal readline reads Ctrl+C itself (raw mode, no SIGINT): an interruption, not a "no".
            prompt.once("SIGINT", () => {
                process.stderr.write("\n");
                reject(new InterruptedError("Interrupted; nothing was downloaded."));
            });
            // Ctrl+D or a closed stdin is a "no" (Node 20 leaves question() pending forever on close).
            prompt.once("close", () => resolve(undefined));
            prompt.question(question, {signal}).then(resolve, reject);
        });
        return answer != null && /^y(es)?$/i.test(answer.trim());
    } catch (error) {
        if (error instanceof InterruptedError) throw error;
        if (signal?.aborted === true) throw new InterruptedError("Interrupted; nothing was downloaded.", {cause: error});
        return false;
    } finally {
        prompt.close();
    }
}
