/**
 * The KV-cache element types mixtral offers (llama.cpp's -ctk/-ctv names) and what one value of
 * each costs. q8_0 and q4_0 store blocks of 32 values: 32 quants plus one f16 scale (34 and 18
 * bytes), so a head's size must be a multiple of 32 to use them.
 */
export const cacheTypes = ["f16", "q8_0", "q4_0"] as const;
export type CacheType = typeof cacheTypes[number];

export const flashAttentionModes = ["auto", "on", "off"] as const;
export type FlashAttentionMode = typeof flashAttentionModes[number];

export const cacheTypeBlockSize: Readonly<Record<CacheType, number>> = {f16: 1, q8_0: 32, q4_0: 32};

const cacheTypeBlockBytes: Readonly<Record<CacheType, number>> = {f16: 2, q8_0: 34, q4_0: 18};

/** Bytes of one cached value: 2 for f16, 1.0625 for q8_0, 0.5625 for q4_0. */
export function cacheTypeBytesPerValue(type: CacheType): number {
    return cacheTypeBlockBytes[type] / cacheTypeBlockSize[type];
}

/** "q8_0", or "q8_0/f16" when K and V differ. */
export function kvCacheLabel(typeK: CacheType, typeV: CacheType): string {
    return typeK === typeV ? typeK : `${typeK}/${typeV}`;
}

export function isQuantizedCacheType(type: CacheType): boolean {
    return type !== "f16";
}
