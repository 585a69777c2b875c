import type {CacheType, FlashAttentionMode} from "../hardware/kvCacheTypes.js";
import type {BenchInstance} from "./types.js";

export type BenchParams = {
    models: readonly string[],
    /** --experts values; absent, the file's own count. */
    experts?: readonly number[],
    nPrompt: readonly number[],
    nGen: readonly number[],
    /** --pg pairs: prompt tokens then generated tokens, timed together. */
    promptGen: readonly (readonly [number, number])[],
    nDepth: readonly number[],
    threads: readonly number[],
    gpuLayers: readonly (number | "max")[],
    batchSize: number,
    typeK: readonly CacheType[],
    typeV: readonly CacheType[],
    flashAttention: readonly FlashAttentionMode[]
};

/**
 * Every combination of the list-valued flags, in llama-bench's order: model (then our --experts, a
 * load-time setting like the model's), then GPU layers, then
 * K and V cache types, then flash attention, then threads, then depth, and within those the pp tests, the tg tests, then the pg tests. A 0 in -p or
 * -n means "no such test", as in llama-bench (`-p 0` runs tg only).
 */
export function expandInstances(params: BenchParams): BenchInstance[] {
    const instances: BenchInstance[] = [];
    const experts = params.experts ?? [undefined];
    for (const model of params.models)
        for (const expertsUsed of experts)
            for (const gpuLayers of params.gpuLayers)
                for (const typeK of params.typeK)
                    for (const typeV of params.typeV)
                        for (const flashAttention of params.flashAttention)
                            for (const threads of params.threads)
                                for (const nDepth of params.nDepth) {
                                    const base = {model, ...(expertsUsed == null ? {} : {expertsUsed}), gpuLayers, threads, nDepth,
                                        batchSize: params.batchSize, typeK, typeV, flashAttention};
                                    for (const nPrompt of params.nPrompt)
                                        if (nPrompt > 0) instances.push({...base, nPrompt, nGen: 0});
                                    for (const nGen of params.nGen)
                                        if (nGen > 0) instances.push({...base, nPrompt: 0, nGen});
                                    for (const [nPrompt, nGen] of params.promptGen)
                                        if (nPrompt > 0 || nGen > 0) instances.push({...base, nPrompt, nGen});
                                }
    return instances;
}

/** Whether any test size is above 0 (`-p 0 -n 0` and no --pg runs nothing). */
export function hasTests(params: Pick<BenchParams, "nPrompt" | "nGen" | "promptGen">): boolean {
    return params.nPrompt.some((n) => n > 0) || params.nGen.some((n) => n > 0) || params.promptGen.some(([p, g]) => p > 0 || g > 0);
}

/** The instances that can share one loaded model (same file, experts and offload). */
export function groupByLoad(instances: readonly BenchInstance[]): BenchInstance[][] {
    const groups = new Map<string, BenchInstance[]>();
    for (const instance of instances) {
        const key = JSON.stringify([instance.model, instance.expertsUsed ?? null, instance.gpuLayers]);
        const group = groups.get(key);
        if (group == null) groups.set(key, [instance]);
        else group.push(instance);
    }
    return [...groups.values()];
}
