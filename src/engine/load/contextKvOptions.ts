import type {KvCacheSettings} from "../../hardware/kvCacheSettings.js";
import type {CacheType} from "../../hardware/kvCacheTypes.js";

/** The options node-llama-cpp's createContext takes for these settings (its KV-type options are marked experimental). */
export function contextKvOptions(settings: KvCacheSettings) {
    const {typeK, typeV, flashAttention} = settings;
    return {
        flashAttention: flashAttention == null || flashAttention === "auto" ? "auto" as const : flashAttention === "on",
        experimentalKvCacheKeyType: typeK == null ? undefined : ggmlTypeName(typeK),
        experimentalKvCacheValueType: typeV == null ? undefined : ggmlTypeName(typeV)
    };
}

function ggmlTypeName(type: CacheType) {
    return type.toUpperCase() as "F16" | "Q8_0" | "Q4_0";
}
