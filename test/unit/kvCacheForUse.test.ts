import {describe, expect, test} from "vitest";
import {chooseKvCache, kvCacheByUse, longestQ8Prompt, measuredKvFigures, type KvUseRequest} from "../../src/hardware/kvCacheForUse.js";
import {kvCacheFrom} from "../../src/hardware/kvCacheSettings.js";
import {plannedKvCache} from "../../src/hardware/planDefaultModel.js";
import {planPlacement} from "../../src/hardware/planPlacement.js";
import {catalog, machines} from "./plannerFixtures.js";

/** Mixtral's heads hold 128 values; the 212M bench model's 96: both whole q8_0 blocks. */
const cpu = (use: KvUseRequest["use"], given: KvUseRequest["given"] = {}, heads = 128): KvUseRequest =>
    ({use, backend: "cpu", given, headSizes: {k: heads, v: heads}});
const types = (request: KvUseRequest) => {
    const {typeK, typeV, flashAttention} = chooseKvCache(request);
    return {typeK, typeV, flashAttention};
};
const q8 = {typeK: "q8_0", typeV: "f16", flashAttention: "off"};
const f16 = {typeK: "f16", typeV: "f16", flashAttention: "auto"};
const depthReason = "generation at 16384 tokens of context is 1.40× faster with a q8_0 K cache and flash attention off";

describe("the KV cache by use on the CPU backend", () => {
    test.each(["chat", "serve"] as const)("%s gets a q8_0 K cache with flash attention off, and says it is faster at depth", (kind) => {
        const choice = chooseKvCache(cpu({kind}));
        expect(choice).toMatchObject(q8);
        expect(choice.reason).toBe(`${kind} on the CPU: ${depthReason}`);
    });

    test("the figures behind it: q8_0 K without flash attention generates faster deep in a context, f16 with it evaluates prompts faster", () => {
        const {f16: plain, q8K} = measuredKvFigures;
        expect(q8K.generate[1]).toBeGreaterThan(plain.generate[1]);
        expect(q8K.prompt[0]).toBeLessThan(plain.prompt[0]);
        expect(q8K.prompt[1]).toBeLessThan(plain.prompt[1]);
        // Leaning to f16: no advantage is assumed where the measurements could not tell them apart.
        expect(q8K.generate[0]).toBe(plain.generate[0]);
    });

    test("complete with a long prompt and little output keeps f16: its prompt is evaluated faster with flash attention", () => {
        const choice = chooseKvCache(cpu({kind: "complete", promptTokens: 4000, maxTokens: 64}));
        expect(choice).toMatchObject(f16);
        expect(choice.reason).toBe("complete on the CPU, 4000 prompt tokens and up to 64 out: prompt evaluation is 1.07–1.16× faster with f16 and flash attention, " +
            "which outweighs a q8_0 K cache's faster generation at depth");
    });

    test("complete with a short prompt and a long answer gets the q8_0 K cache: the answer is generated deep enough to pay", () => {
        const choice = chooseKvCache(cpu({kind: "complete", promptTokens: 100, maxTokens: 1024}));
        expect(choice).toMatchObject(q8);
        expect(choice.reason).toMatch(/outweighs the f16 cache's faster prompt evaluation$/);
    });

    test("complete tips at the longest prompt the figures give: ~5,000 tokens at its default -n 256, ~340 at -n 64, none at -n 1", () => {
        const longest = longestQ8Prompt(256)!;
        expect(longest).toBeGreaterThan(4500);
        expect(longest).toBeLessThan(5500);
        expect(longestQ8Prompt(64)).toBeGreaterThan(250);
        expect(longestQ8Prompt(64)).toBeLessThan(450);
        expect(types(cpu({kind: "complete", promptTokens: longest, maxTokens: 256}))).toEqual(q8);
        expect(types(cpu({kind: "complete", promptTokens: longest + 1, maxTokens: 256}))).toEqual(f16);
        expect(longestQ8Prompt(1)).toBe(0);
        expect(types(cpu({kind: "complete", promptTokens: 20, maxTokens: 0}))).toEqual(f16);
        // The longer the answer, the longer the prompt it pays for.
        expect(longestQ8Prompt(1024)).toBeGreaterThan(longest);
    });

    test("complete --lines, whose prompts come after the context is made, keeps f16", () => {
        const choice = chooseKvCache(cpu({kind: "complete", maxTokens: 256}));
        expect(choice).toMatchObject(f16);
        expect(choice.reason).toContain("prompts not known yet");
    });

    test("without a use (perplexity, benchmarks) the cache stays llama.cpp's f16", () => {
        expect(chooseKvCache(cpu(undefined))).toMatchObject({...f16, reason: "llama.cpp's default"});
    });
});

describe("what the rule leaves alone", () => {
    test.each(["cuda", "vulkan", "metal"] as const)("a %s GPU keeps f16 for chat too", (backend) => {
        const choice = chooseKvCache({use: {kind: "chat"}, backend, given: {}, headSizes: {k: 128, v: 128}});
        expect(choice).toMatchObject(f16);
        expect(choice.reason).toBe(`on a GPU (${backend}): f16 unless memory needs less`);
    });

    test("--cache-type-k/-v always win, one given alone leaves the other f16", () => {
        expect(types(cpu({kind: "chat"}, {typeK: "f16", typeV: "f16"}))).toEqual(f16);
        expect(types(cpu({kind: "chat"}, {typeV: "q8_0", flashAttention: "on"}))).toEqual({typeK: "f16", typeV: "q8_0", flashAttention: "on"});
        expect(types(cpu({kind: "complete", promptTokens: 9000, maxTokens: 8}, {typeK: "q4_0", typeV: "q4_0"}))).toEqual({typeK: "q4_0", typeV: "q4_0", flashAttention: "auto"});
        expect(chooseKvCache(cpu({kind: "chat"}, {typeK: "f16"})).reason).toBe("as set by --cache-type-k/-v, or by the plan to fit memory");
    });

    test("--flash-attention on or auto keeps f16, the fastest cache with flash attention; off still gets the q8_0 K cache", () => {
        for (const flashAttention of ["on", "auto"] as const) {
            const given = chooseKvCache(cpu({kind: "serve"}, {flashAttention}));
            expect(given).toMatchObject({typeK: "f16", typeV: "f16", flashAttention});
            expect(given.reason).toBe(`--flash-attention ${flashAttention}: with flash attention f16 is the fastest cache on the CPU`);
        }
        expect(types(cpu({kind: "serve"}, {flashAttention: "off"}))).toEqual(q8);
        // A long prompt with --flash-attention off: f16, and flash attention stays off as given.
        expect(types(cpu({kind: "complete", promptTokens: 9000, maxTokens: 8}, {flashAttention: "off"}))).toEqual({...f16, flashAttention: "off"});
    });

    test("K heads that are not whole 32-value blocks keep f16 and say so (the tiny test models' 16); 96 and 32 fit", () => {
        const tiny = chooseKvCache(cpu({kind: "chat"}, {}, 16));
        expect(tiny).toMatchObject(f16);
        expect(tiny.reason).toBe("this model's attention heads hold 16 values, not a multiple of q8_0's 32-value blocks");
        expect(chooseKvCache({use: {kind: "chat"}, backend: "cpu", given: {}, headSizes: {k: 80, v: 64}}).reason).toContain("hold 80 values");
        // Only K is quantized: a V head of any size is fine.
        expect(types({use: {kind: "chat"}, backend: "cpu", given: {}, headSizes: {k: 64, v: 80}})).toEqual(q8);
        expect(types(cpu({kind: "chat"}, {}, 96))).toEqual(q8);
        expect(types(cpu({kind: "chat"}, {}, 32))).toEqual(q8);
        expect(types({use: {kind: "chat"}, backend: "cpu", given: {}, headSizes: {}})).toEqual(q8);
    });
});

describe("the plan and the rule together (what doctor shows)", () => {
    const mixtralHeads = {k: 128, v: 128};
    test("a CPU plan with an f16 cache leaves the types to the use: chat and serve a q8_0 K cache, complete too up to its limit", () => {
        const plan = planPlacement({hardware: machines.cpu64, catalog});
        expect(plan.kvCacheType).toBe("f16");
        const given = kvCacheFrom({}, plannedKvCache(plan, {}));
        expect(given).toEqual({typeK: undefined, typeV: undefined, flashAttention: undefined});
        const byUse = kvCacheByUse({backend: "cpu", given, headSizes: mixtralHeads}, 256);
        expect(byUse.chat).toMatchObject(q8);
        expect(byUse.serve).toMatchObject(q8);
        expect(byUse.complete).toMatchObject({...f16, maxTokens: 256, q8UpToPromptTokens: longestQ8Prompt(256)});
        expect(byUse.complete.reason).toBe(`complete on the CPU at -n 256: a q8_0 K cache for prompts up to ${longestQ8Prompt(256)} tokens, f16 for longer ones: ` +
            "prompt evaluation is 1.07–1.16× faster with f16 and flash attention");
    });

    test("a plan that needed q8_0 to fit memory keeps it for every use, and --cache-type-k f16 wins over both", () => {
        const plan = planPlacement({hardware: machines.rtx3090, catalog, contextSize: 32768});
        expect(plan.kvCacheType).toBe("q8_0");
        const byUse = kvCacheByUse({backend: "cuda", given: kvCacheFrom({}, plannedKvCache(plan, {})), headSizes: mixtralHeads}, 256);
        for (const choice of [byUse.chat, byUse.serve, byUse.complete]) expect(choice).toMatchObject({typeK: "q8_0", typeV: "q8_0", flashAttention: "on"});
        expect(byUse.complete.q8UpToPromptTokens).toBeNull();
        const flagged = kvCacheByUse({backend: "cpu", given: kvCacheFrom({cacheTypeK: "f16"}, plannedKvCache(plan, {})), headSizes: mixtralHeads}, 256);
        expect(flagged.chat).toMatchObject({typeK: "f16", typeV: "q8_0"});
    });

    test("a GPU plan with f16 keeps f16 for every use", () => {
        const plan = planPlacement({hardware: machines.rtx3090, catalog});
        const byUse = kvCacheByUse({backend: "cuda", given: kvCacheFrom({}, plannedKvCache(plan, {})), headSizes: mixtralHeads}, 256);
        for (const choice of [byUse.chat, byUse.serve, byUse.complete]) expect(choice).toMatchObject(f16);
        expect(byUse.complete.q8UpToPromptTokens).toBeNull();
    });
});
