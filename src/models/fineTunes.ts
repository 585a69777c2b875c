import path from "node:path";
import {ModelNotFoundError} from "../errors.js";
import type {Catalog, FineTuneEntry} from "./catalog.js";
import type {PullTarget} from "./download.js";
import {huggingFaceFileUrl} from "./huggingFace.js";
import {storeDir} from "./store.js";

/**
 * Catalog fine-tunes (e.g. aurora): `<name>` or `<name>:<QUANT>` means the base variant's file of
 * that quant (the plan's quant when none is given) plus the fine-tune's LoRA adapter, which is pulled
 * as PEFT files and converted to GGUF once, into the store.
 */
export type FineTuneSpec = {fineTune: FineTuneEntry, quant?: string};

/** The PEFT files a fine-tune's adapter is published as (the names PEFT's save_pretrained writes). */
export const peftAdapterFiles = ["adapter_config.json", "adapter_model.safetensors"] as const;

export function findFineTune(value: string, catalog: Catalog): FineTuneSpec | undefined {
    const [name = "", quant, ...rest] = value.trim().toLowerCase().split(":");
    const fineTune = catalog.fineTunes.find((entry) => entry.name === name);
    if (fineTune == null || rest.length > 0) return undefined;
    if (quant == null || quant === "") return {fineTune};
    const upper = quant.toUpperCase();
    if (!catalog.models.some((model) => model.name === `${fineTune.base}:${upper}`))
        throw new ModelNotFoundError(`${fineTune.name} has no ${upper} file: the catalog has no ${fineTune.base}:${upper}.`, {
            hint: `Valid: ${catalog.models.filter((model) => model.variant === fineTune.base).map((model) => `${fineTune.name}:${model.quant}`).join(", ")}, or plain ${fineTune.name} for the planned quant.`
        });
    return {fineTune, quant: upper};
}

/** The base model's catalog name for a quant. */
export function fineTuneBaseName(spec: FineTuneSpec, quant: string): string {
    return `${spec.fineTune.base}:${quant.toUpperCase()}`;
}

/** The PEFT files, pulled like any other Hugging Face file (resumable, sha256-verified). */
export function adapterPullTargets(fineTune: FineTuneEntry, env: NodeJS.ProcessEnv = process.env): PullTarget[] {
    const [owner = "", repo = ""] = fineTune.repo.split("/");
    return peftAdapterFiles.map((file) => ({
        kind: "remote",
        url: huggingFaceFileUrl(fineTune.repo, file, fineTune.revision ?? "main", env),
        file,
        storeSubdir: path.join("hf", owner, repo),
        label: `${fineTune.name} adapter (${file})`,
        repo: fineTune.repo
    }));
}

/** Where the converted GGUF adapter is kept: next to its PEFT files. */
export function fineTuneAdapterPath(fineTune: FineTuneEntry, dir = storeDir()): string {
    const [owner = "", repo = ""] = fineTune.repo.split("/");
    return path.join(dir, "hf", owner, repo, `${fineTune.name}.lora.gguf`);
}
