import {readTextFile} from "../textFile.js";
import {AdapterError} from "../errors.js";

/**
 * The parts of PEFT's adapter_config.json (peft.LoraConfig) that decide how a LoRA adapter maps onto
 * llama.cpp: rank, alpha, rsLoRA scaling and per-module rank/alpha overrides. Anything that changes
 * the maths beyond W + scale·B·A (DoRA, other PEFT methods, full-weight modules) is refused here, by
 * name, rather than converted into something that silently computes another model.
 */
export type PeftLoraConfig = {
    r: number,
    loraAlpha: number,
    useRslora: boolean,
    /** PEFT's regex-like keys (a module-name suffix) to a rank or an alpha */
    rankPattern: Record<string, number>,
    alphaPattern: Record<string, number>,
    targetModules: string[] | string | undefined,
    baseModel: string | undefined
};

export async function readPeftConfig(file: string): Promise<PeftLoraConfig> {
    let raw: unknown;
    try {
        raw = JSON.parse(await readTextFile(file));
    } catch (error) {
        throw new AdapterError(`Cannot read the PEFT adapter config ${file}.`, {
            hint: "Pass the folder a PEFT LoRA adapter was saved to: it holds adapter_config.json and adapter_model.safetensors.",
            cause: error
        });
    }
    return parsePeftConfig(raw, file);
}

export function parsePeftConfig(raw: unknown, file = "adapter_config.json"): PeftLoraConfig {
    if (typeof raw !== "object" || raw == null || Array.isArray(raw))
        throw new AdapterError(`${file} is not a JSON object.`, {hint: "It should be the adapter_config.json PEFT wrote."});
    const config = raw as Record<string, unknown>;
    const unsupported = (what: string, hint: string) => new AdapterError(`Unsupported adapter: ${what}.`, {hint});

    if (config.peft_type != null && config.peft_type !== "LORA")
        throw unsupported(`${file} is a ${String(config.peft_type)} adapter, not LoRA`, "Only PEFT LoRA adapters can be converted for llama.cpp.");
    if (config.use_dora === true)
        throw unsupported("DoRA (use_dora: true) has a magnitude vector llama.cpp cannot apply", "Merge the DoRA adapter into the base weights with PEFT (merge_and_unload) and convert the merged model instead.");
    if (Array.isArray(config.modules_to_save) && config.modules_to_save.length > 0)
        throw unsupported(`modules_to_save (${config.modules_to_save.join(", ")}) are full weights, not LoRA matrices`, "llama.cpp adapters hold only LoRA A/B pairs; merge the adapter into the base model instead.");
    const layerReplication = config.layer_replication;
    if (Array.isArray(layerReplication) && layerReplication.length > 0)
        throw unsupported("layer_replication changes the model's layers", "Merge the adapter into the base model instead.");

    const r = config.r;
    if (typeof r !== "number" || !Number.isInteger(r) || r < 1)
        throw new AdapterError(`${file} has no valid rank r (got ${JSON.stringify(r)}).`, {hint: "It should be the adapter_config.json PEFT wrote."});
    const loraAlpha = config.lora_alpha ?? r;
    if (typeof loraAlpha !== "number" || !(loraAlpha > 0))
        throw new AdapterError(`${file} has no valid lora_alpha (got ${JSON.stringify(config.lora_alpha)}).`, {hint: "lora_alpha must be a positive number."});

    return {
        r,
        loraAlpha,
        useRslora: config.use_rslora === true,
        rankPattern: numberRecord(config.rank_pattern),
        alphaPattern: numberRecord(config.alpha_pattern),
        targetModules: Array.isArray(config.target_modules) || typeof config.target_modules === "string" ? config.target_modules as string[] | string : undefined,
        baseModel: typeof config.base_model_name_or_path === "string" ? config.base_model_name_or_path : undefined
    };
}

function numberRecord(value: unknown): Record<string, number> {
    if (typeof value !== "object" || value == null) return {};
    return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, number] => typeof entry[1] === "number"));
}

/**
 * PEFT's pattern lookup (`get_pattern_key`): the first key that matches the end of the module name
 * on a dot boundary.
 */
export function patternValue(patterns: Record<string, number>, moduleName: string): number | undefined {
    for (const [key, value] of Object.entries(patterns)) {
        let matches: boolean;
        try {
            matches = new RegExp(`^(.*\\.)?(${key})$`).test(moduleName);
        } catch {
            matches = moduleName === key || moduleName.endsWith(`.${key}`);
        }
        if (matches) return value;
    }
    return undefined;
}
