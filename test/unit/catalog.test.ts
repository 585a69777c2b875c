import fs from "node:fs";
import {describe, expect, it} from "vitest";
import {catalogProblems, defaultCatalogPath, loadCatalog} from "../../src/models/catalog.js";

const document = JSON.parse(fs.readFileSync(defaultCatalogPath, "utf8")) as {models: Record<string, unknown>[]};
const quants = ["Q2_K", "Q3_K_M", "Q4_0", "Q4_K_M", "Q5_0", "Q5_K_M", "Q6_K", "Q8_0"];

describe("models.json", () => {
    it("passes the schema with no duplicates", () => {
        expect(catalogProblems(document)).toEqual([]);
        expect(loadCatalog(defaultCatalogPath).models.length).toBe(16);
    });

    it("lists every quant from Q3_K_M to Q8_0, plus Q2_K, for both instruct and base", () => {
        const catalog = loadCatalog(defaultCatalogPath);
        for (const variant of ["instruct", "base"])
            for (const quant of quants) {
                const entry = catalog.models.find((model) => model.name === `${variant}:${quant}`);
                expect(entry, `${variant}:${quant}`).toBeDefined();
                expect(entry?.repo).toBe(variant === "instruct" ? "TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF" : "TheBloke/Mixtral-8x7B-v0.1-GGUF");
                expect(entry?.file).toBe(`mixtral-8x7b-${variant === "instruct" ? "instruct-" : ""}v0.1.${quant}.gguf`);
            }
    });

    it("marks Q2_K, and only Q2_K, as below the range", () => {
        const below = loadCatalog(defaultCatalogPath).models.filter((model) => model.belowRange === true).map((model) => model.name);
        expect(below.sort()).toEqual(["base:Q2_K", "instruct:Q2_K"]);
    });

    it("keeps the known exact sizes exact and marks the rest as rounded", () => {
        const catalog = loadCatalog(defaultCatalogPath);
        const exact = Object.fromEntries(catalog.models.filter((model) => model.bytesExact).map((model) => [model.name, model.bytes]));
        expect(exact).toEqual({"instruct:Q4_K_M": 26_441_533_376, "base:Q3_K_M": 20_363_355_584, "base:Q2_K": 15_644_034_176});
        expect(catalog.models.find((model) => model.name === "instruct:Q8_0")?.bytes).toBe(49_620_000_000);
    });

    it("has bits per weight that grow with the quant size", () => {
        const instruct = loadCatalog(defaultCatalogPath).models.filter((model) => model.variant === "instruct");
        const sorted = [...instruct].sort((a, b) => a.bytes - b.bytes);
        for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.bitsPerWeight).toBeGreaterThanOrEqual(sorted[i - 1]!.bitsPerWeight);
        expect(instruct.find((model) => model.quant === "Q4_K_M")?.bitsPerWeight).toBeCloseTo(4.53, 2);
    });
});

describe("catalog validation", () => {
    const valid = document.models[3]!;

    it("reports a duplicate name", () => {
        expect(catalogProblems({models: [valid, {...valid, file: "other.gguf"}]}).join()).toMatch(/listed twice/);
    });

    it("reports a malformed sha256 and a name that does not match variant:quant", () => {
        const problems = catalogProblems({models: [{...valid, sha256: "abc", name: "instruct:Q9"}]}).join();
        expect(problems).toMatch(/sha256/);
        expect(problems).toMatch(/<variant>:<quant>/);
    });

    it("reports a file name that could escape the store", () => {
        expect(catalogProblems({models: [{...valid, file: "../evil.gguf"}]}).join()).toMatch(/plain \*\.gguf/);
    });

    it("rejects a document without a models array", () => {
        expect(catalogProblems({})).toHaveLength(1);
    });
});

describe("catalog fine-tunes", () => {
    const model = document.models[3]!;
    const aurora = {name: "aurora", description: "Chinese chat", base: "instruct", repo: "wangrongsheng/Aurora", bytes: null};

    it("models.json lists aurora over instruct, from wangrongsheng/Aurora", () => {
        expect(loadCatalog(defaultCatalogPath).fineTunes).toEqual([expect.objectContaining({name: "aurora", base: "instruct", repo: "wangrongsheng/Aurora"})]);
    });

    it("reports a fine-tune over a variant the catalog does not have, a clashing name and a bad size", () => {
        expect(catalogProblems({models: [model], fineTunes: [aurora]})).toEqual([]);
        expect(catalogProblems({models: [model], fineTunes: [{...aurora, base: "chat"}]}).join()).toMatch(/base chat is not a variant/);
        expect(catalogProblems({models: [model], fineTunes: [{...aurora, name: "instruct"}]}).join()).toMatch(/already a name/);
        expect(catalogProblems({models: [model], fineTunes: [{...aurora, bytes: -1}]}).join()).toMatch(/bytes must be null or a positive integer/);
        expect(catalogProblems({models: [model], fineTunes: {}}).join()).toMatch(/fineTunes must be an array/);
    });
});

