import {describe, expect, it} from "vitest";
import {defaultCatalogPath, loadCatalog} from "../../src/models/catalog.js";
import {parseModelSpec} from "../../src/models/resolveName.js";
import {storePathFor} from "../../src/models/store.js";

const catalog = loadCatalog(defaultCatalogPath);
const env = {HF_ENDPOINT: undefined} as NodeJS.ProcessEnv;

function stored(name: string): string {
    const spec = parseModelSpec(name, catalog, env);
    if (spec.kind === "path") throw new Error(`${name} is a path`);
    return storePathFor(spec, "/store");
}

describe("a downloaded file's identity in the store", () => {
    it("keeps two revisions of one Hugging Face file apart", () => {
        expect(stored("hf:o/r/x.gguf")).toBe(stored("hf:o/r/x.gguf#main"));
        expect(stored("hf:o/r/x.gguf#v2")).not.toBe(stored("hf:o/r/x.gguf#main"));
        expect(stored("hf:o/r/x.gguf#v2")).toBe("/store/hf/o/r/@v2/x.gguf");
    });

    it("keeps files of the same name in two folders of one repo apart", () => {
        expect(stored("hf:o/r/a/x.gguf")).toBe("/store/hf/o/r/@main/a/x.gguf");
        expect(stored("hf:o/r/b/x.gguf")).toBe("/store/hf/o/r/@main/b/x.gguf");
    });

    it("keeps a revision with slashes or dots inside its own folder of the store", () => {
        expect(stored("hf:o/r/x.gguf#refs/pr/1")).toBe("/store/hf/o/r/@refs%2Fpr%2F1/x.gguf");
        expect(stored("hf:o/r/x.gguf#..")).toBe("/store/hf/o/r/@../x.gguf");
    });

    it("keeps two URLs with the same file name apart, and one URL in one place", () => {
        const a = stored("https://example.com/one/x.gguf");
        const b = stored("https://example.com/two/x.gguf");
        expect(a).not.toBe(b);
        expect(stored("https://example.com/one/x.gguf#ignored")).toBe(a);
        expect(a).toMatch(/^\/store\/url\/example\.com\/[0-9a-f]{12}\/x\.gguf$/);
    });

    it("keeps catalog files where they always were", () => {
        expect(stored("instruct:Q4_K_M")).toBe("/store/mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf");
    });
});
