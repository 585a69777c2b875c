import {describe, expect, test} from "vitest";
import {parseCacheTypeList, parseFlashAttentionList} from "../../src/cli/flags/benchFlags.js";
import {stateFileFor} from "../../src/cli/chat/chatStateFile.js";
import {expandLlamaCppFlagAliases} from "../../src/cli/flags/llamaCppFlagAliases.js";
import {checkKvCacheSettings} from "../../src/hardware/kvCacheSettings.js";
import {contextKvOptions} from "../../src/engine/load/contextKvOptions.js";
import {cacheTypeBytesPerValue} from "../../src/hardware/kvCacheTypes.js";
import {kvBytesPerTokenPerBlockOf} from "../../src/hardware/mixtralShape.js";

describe("KV-cache flags", () => {
    test("llama.cpp's -ctk, -ctv and -fa become the long flags (bench's -fa is llama-bench's --flash-attn), never after --", () => {
        expect(expandLlamaCppFlagAliases(["node", "mixtral", "chat", "-ctk", "q8_0", "-ctv", "q8_0", "-fa", "on"]))
            .toEqual(["node", "mixtral", "chat", "--cache-type-k", "q8_0", "--cache-type-v", "q8_0", "--flash-attention", "on"]);
        expect(expandLlamaCppFlagAliases(["node", "mixtral", "bench", "-fa", "0,1"])).toEqual(["node", "mixtral", "bench", "--flash-attn", "0,1"]);
        expect(expandLlamaCppFlagAliases(["node", "mixtral", "complete", "--", "-fa"])).toEqual(["node", "mixtral", "complete", "--", "-fa"]);
    });

    test("--flash-attn and --flash-attention are both taken by every command, = forms included", () => {
        expect(expandLlamaCppFlagAliases(["node", "mixtral", "chat", "--flash-attn", "on"])).toEqual(["node", "mixtral", "chat", "--flash-attention", "on"]);
        expect(expandLlamaCppFlagAliases(["node", "mixtral", "serve", "--flash-attn=off"])).toEqual(["node", "mixtral", "serve", "--flash-attention=off"]);
        expect(expandLlamaCppFlagAliases(["node", "mixtral", "bench", "--flash-attention", "0,1"])).toEqual(["node", "mixtral", "bench", "--flash-attn", "0,1"]);
        expect(expandLlamaCppFlagAliases(["node", "mixtral", "bench", "--flash-attention=on"])).toEqual(["node", "mixtral", "bench", "--flash-attn=on"]);
    });

    test("bench lists take llama-bench's spellings and refuse anything else", () => {
        expect(parseCacheTypeList("-ctk", "f16,Q8_0, q4_0")).toEqual(["f16", "q8_0", "q4_0"]);
        expect(() => parseCacheTypeList("-ctk", "q5_1")).toThrow(/-ctk expects comma-separated cache types/);
        expect(parseFlashAttentionList("0,1,auto,on,off,-1,true")).toEqual(["off", "on", "auto", "on", "off", "auto", "on"]);
        expect(() => parseFlashAttentionList("maybe")).toThrow(/-fa expects/);
    });

    test("only a quantized V cache with flash attention off is impossible without looking at the model", () => {
        expect(() => checkKvCacheSettings({typeV: "q4_0", flashAttention: "off"})).toThrow(/needs flash attention/);
        for (const settings of [{typeK: "q8_0", flashAttention: "off"}, {typeV: "q8_0"}, {typeV: "q8_0", flashAttention: "on"}, {}] as const)
            expect(() => checkKvCacheSettings(settings)).not.toThrow();
    });

    test("the settings reach node-llama-cpp as its option names; unset ones stay its defaults", () => {
        expect(contextKvOptions({typeK: "q8_0", typeV: "q4_0", flashAttention: "on"}))
            .toEqual({flashAttention: true, experimentalKvCacheKeyType: "Q8_0", experimentalKvCacheValueType: "Q4_0"});
        expect(contextKvOptions({flashAttention: "off"})).toEqual({flashAttention: false, experimentalKvCacheKeyType: undefined, experimentalKvCacheValueType: undefined});
        expect(contextKvOptions({}).flashAttention).toBe("auto");
    });

    test("bytes per value follow the ggml block layouts, and Mixtral's cache per token and layer follows from them", () => {
        expect([cacheTypeBytesPerValue("f16"), cacheTypeBytesPerValue("q8_0"), cacheTypeBytesPerValue("q4_0")]).toEqual([2, 34 / 32, 18 / 32]);
        expect(kvBytesPerTokenPerBlockOf("f16", "f16") * 32).toBe(128 * 1024);
        expect(kvBytesPerTokenPerBlockOf("q8_0", "q8_0") * 32).toBe(68 * 1024);
        expect(kvBytesPerTokenPerBlockOf("q4_0", "q4_0") * 32).toBe(36 * 1024);
    });

    test("the state file sits beside the conversation's JSON", () => {
        expect(stateFileFor("/tmp/talk.json")).toBe("/tmp/talk.kvstate");
        expect(stateFileFor("notes/chat.JSON")).toBe("notes/chat.kvstate");
        expect(stateFileFor("conversation")).toBe("conversation.kvstate");
    });
});
