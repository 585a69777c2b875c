import {UsageError} from "../errors.js";
import type {ValidatedGguf} from "../gguf/validateGguf.js";
import {cacheTypeBlockSize, isQuantizedCacheType, type CacheType, type FlashAttentionMode} from "./kvCacheTypes.js";

/** --cache-type-k, --cache-type-v and --flash-attention; what is not given stays llama.cpp's default. */
export type KvCacheSettings = {
    typeK?: CacheType,
    typeV?: CacheType,
    flashAttention?: FlashAttentionMode
};

/** The KV-cache flags of chat, complete, serve and doctor. */
export type KvCacheFlags = {cacheTypeK?: CacheType, cacheTypeV?: CacheType, flashAttention?: FlashAttentionMode};

/** Each KV-cache flag the user gave wins over the plan's choice, one by one. */
export function kvCacheFrom(flags: KvCacheFlags, planned: KvCacheSettings = {}): KvCacheSettings {
    return {
        typeK: flags.cacheTypeK ?? planned.typeK,
        typeV: flags.cacheTypeV ?? planned.typeV,
        flashAttention: flags.flashAttention ?? planned.flashAttention
    };
}

/**
 * Refuses, before any weight is read, what llama.cpp would refuse only after loading them (or, for
 * a bad block size, abort on): a quantized V cache is read by the flash-attention kernel only
 * (llama_init_from_model: "quantized V cache requires flash_attn to be enabled"), and a quantized
 * cache stores whole 32-value blocks, so each attention head must be a multiple of 32 values.
 */
export function checkKvCacheSettings(settings: KvCacheSettings, file?: ValidatedGguf, flags: FlagNames = modelFlagNames): void {
    const {typeK = "f16", typeV = "f16", flashAttention = "auto"} = settings;
    if (isQuantizedCacheType(typeV) && flashAttention === "off")
        throw new UsageError(`A quantized V cache (${flags.typeV} ${typeV}) needs flash attention, so it cannot run with ${flags.flashAttentionOff}.`, {
            hint: `Use ${flags.flashAttentionOnOrAuto}, or ${flags.typeV} f16; a quantized K cache alone works either way.`
        });
    if (file == null) return;
    const heads = headSizes(file);
    for (const [side, type, size] of [["K", typeK, heads.k], ["V", typeV, heads.v]] as const) {
        const block = cacheTypeBlockSize[type];
        if (size != null && size % block !== 0)
            throw new UsageError(
                `This model's attention heads hold ${size} values, not a multiple of ${type}'s ${block}-value blocks, so its ${side} cache cannot be ${type}.`,
                {hint: `Use --cache-type-${side.toLowerCase()} f16 with ${file.path}.`}
            );
    }
}

/** How the refusals name the flags: chat/complete/serve spell them differently from bench (llama-bench's names). */
export type FlagNames = {typeV: string, flashAttentionOff: string, flashAttentionOnOrAuto: string};
const modelFlagNames: FlagNames = {typeV: "--cache-type-v", flashAttentionOff: "--flash-attention off", flashAttentionOnOrAuto: "--flash-attention on (or auto)"};
export const benchFlagNames: FlagNames = {typeV: "-ctv", flashAttentionOff: "-fa 0", flashAttentionOnOrAuto: "-fa 1 (or auto)"};

/** Values per K and V head, from the GGUF header (llama.cpp's n_embd_head_k / n_embd_head_v). */
export function headSizes(file: ValidatedGguf): {k?: number, v?: number} {
    const metadata = file.info.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
    const architecture = String((metadata.general as {architecture?: unknown} | undefined)?.architecture ?? "llama");
    const section = metadata[architecture] as {embedding_length?: unknown, attention?: Record<string, unknown>} | undefined;
    const embedding = Number(section?.embedding_length);
    const heads = Number(section?.attention?.head_count);
    const fallback = Number.isInteger(embedding) && Number.isInteger(heads) && heads > 0 ? embedding / heads : undefined;
    const sizeOf = (key: string) => {
        const value = Number(section?.attention?.[key]);
        return Number.isInteger(value) && value > 0 ? value : fallback;
    };
    return {k: sizeOf("key_length"), v: sizeOf("value_length")};
}
