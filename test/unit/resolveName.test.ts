import path from "node:path";
import {describe, expect, it} from "vitest";
import {defaultCatalogPath, loadCatalog} from "../../src/models/catalog.js";
import {assertAllowedUrl, authHeaders, redactToken} from "../../src/models/huggingFace.js";
import {parseModelSpec} from "../../src/models/resolveName.js";
import {sha256FromEtag} from "../../src/models/sha256File.js";
import {storeDir, storeFileFromArgument} from "../../src/models/store.js";

const catalog = loadCatalog(defaultCatalogPath);
const env = {HF_ENDPOINT: undefined} as NodeJS.ProcessEnv;

function catalogName(input: string) {
    const spec = parseModelSpec(input, catalog, env);
    return spec.kind === "catalog" ? spec.entry.name : spec.kind;
}

describe("model names", () => {
    it("resolves variant:quant names case-insensitively", () => {
        expect(catalogName("instruct:Q4_K_M")).toBe("instruct:Q4_K_M");
        expect(catalogName("BASE:q8_0")).toBe("base:Q8_0");
    });

    it("reads a bare quant as the instruct model", () => {
        expect(catalogName("q5_k_m")).toBe("instruct:Q5_K_M");
    });

    it("takes a .gguf or slash-containing value as a local path", () => {
        expect(parseModelSpec("./models/x.gguf", catalog, env)).toEqual({kind: "path", path: "./models/x.gguf"});
        expect(parseModelSpec("my-model.gguf", catalog, env).kind).toBe("path");
    });

    it("turns hf:<owner>/<repo>/<file>.gguf into the endpoint's resolve URL", () => {
        const spec = parseModelSpec("hf:TheBloke/Mixtral-8x7B-v0.1-GGUF/mixtral-8x7b-v0.1.Q8_0.gguf", catalog, env);
        expect(spec).toMatchObject({kind: "remote", file: "mixtral-8x7b-v0.1.Q8_0.gguf", repo: "TheBloke/Mixtral-8x7B-v0.1-GGUF",
            url: "https://huggingface.co/TheBloke/Mixtral-8x7B-v0.1-GGUF/resolve/main/mixtral-8x7b-v0.1.Q8_0.gguf"});
        const mirrored = parseModelSpec("hf:a/b/c.gguf#v2", catalog, {HF_ENDPOINT: "http://127.0.0.1:9/"});
        expect(mirrored).toMatchObject({url: "http://127.0.0.1:9/a/b/resolve/v2/c.gguf"});
    });

    it("refuses hf: names without a .gguf file or with ..", () => {
        expect(() => parseModelSpec("hf:TheBloke/repo", catalog, env)).toThrow(/not a Hugging Face file name/);
        expect(() => parseModelSpec("hf:a/b/../c.gguf", catalog, env)).toThrow(/not a Hugging Face file name/);
    });

    it("accepts an https URL of a .gguf file and rejects one of something else", () => {
        expect(parseModelSpec("https://example.com/m/x.Q4_0.gguf?download=1", catalog, env)).toMatchObject({kind: "remote", file: "x.Q4_0.gguf"});
        expect(() => parseModelSpec("https://example.com/index.html", catalog, env)).toThrow(/does not name a \.gguf file/);
    });

    it("suggests the closest names for an unknown one", () => {
        try {
            parseModelSpec("instruct:Q4_K_S", catalog, env);
            expect.unreachable();
        } catch (error) {
            expect((error as Error).message).toBe('Unknown model "instruct:Q4_K_S".');
            expect((error as {hint: string}).hint).toMatch(/^Did you mean instruct:Q4_K_M/);
            expect((error as {hint: string}).hint).toContain("base:Q8_0");
        }
    });

    it("suggests instruct files first for a bare quant, as a bare quant means instruct", () => {
        expect(() => parseModelSpec("Q9_K", catalog, env)).toThrow(expect.objectContaining({hint: expect.stringMatching(/^Did you mean instruct:/)}));
    });
});

describe("the store", () => {
    it("lives in MIXTRAL_MODELS, else XDG_CACHE_HOME/mixtral/models, else ~/.cache/mixtral/models", () => {
        expect(storeDir({MIXTRAL_MODELS: "/data/m"})).toBe("/data/m");
        expect(storeDir({XDG_CACHE_HOME: "/xdg"})).toBe("/xdg/mixtral/models");
        expect(storeDir({})).toMatch(new RegExp(`${path.sep}\\.cache${path.sep}mixtral${path.sep}models$`));
    });

    it("never resolves a removal outside the store", () => {
        expect(() => storeFileFromArgument("../x", "/store")).toThrow(/Refusing to remove/);
        expect(() => storeFileFromArgument("/etc/passwd", "/store")).toThrow(/Refusing to remove/);
        expect(() => storeFileFromArgument(".partial/a.gguf", "/store")).toThrow(/Refusing to remove/);
        expect(storeFileFromArgument("hf/a/b/c.gguf", "/store")).toBe("/store/hf/a/b/c.gguf");
    });
});

describe("download safety", () => {
    it("reads a sha256 from ETag forms and ignores other ETags", () => {
        const hex = "a".repeat(64);
        expect(sha256FromEtag(`"${hex}"`)).toBe(hex);
        expect(sha256FromEtag(`W/"${hex.toUpperCase()}"`)).toBe(hex);
        expect(sha256FromEtag(`"0123abcd"`)).toBeUndefined();
        expect(sha256FromEtag(null)).toBeUndefined();
    });

    it("allows plain http only for the HF_ENDPOINT origin", () => {
        expect(() => assertAllowedUrl("https://huggingface.co/x", {})).not.toThrow();
        expect(() => assertAllowedUrl("http://example.com/x.gguf", {})).toThrow(/Refusing to download over http/);
        expect(() => assertAllowedUrl("http://127.0.0.1:8080/a/b", {HF_ENDPOINT: "http://127.0.0.1:8080"})).not.toThrow();
        expect(() => assertAllowedUrl("http://127.0.0.1:8081/a/b", {HF_ENDPOINT: "http://127.0.0.1:8080"})).toThrow();
    });

    it("sends HF_TOKEN only to Hugging Face hosts and redacts it from text", () => {
        const tokenEnv = {HF_TOKEN: "hf_secret123"};
        expect(authHeaders("https://huggingface.co/a/b/resolve/main/c.gguf", tokenEnv)).toEqual({authorization: "Bearer hf_secret123"});
        expect(authHeaders("https://example.com/c.gguf", tokenEnv)).toEqual({});
        expect(redactToken("header Bearer hf_secret123 sent", tokenEnv)).toBe("header Bearer *** sent");
    });
});
