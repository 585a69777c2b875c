/**
 * The tiny Mixtral-shaped models the test suite runs against (real weights can never be fetched here).
 * They live in test/.models/ (git-ignored) and are written by `npm test`'s pretest step; each has a
 * sidecar <file>.json of its options and the generator's fingerprint, so an unchanged model is not
 * written again (see writeModelIfChanged.ts).
 */
import {join, resolve} from "node:path";
import {projectRoot} from "./projectRoot.js";
import type {TensorType} from "../../src/gguf/write/tensorTypes.js";
import {writeModelIfChanged, type WriteIfChangedResult} from "./writeModelIfChanged.js";
import type {MixtralModelOptions} from "./mixtralModel.js";

export type TestModelName = "tiny-f32" | "tiny-f16" | "tiny-q8_0" | "tiny-q4_0" | "tiny-q8_0-notemplate" | "tiny-32k-q8_0" | "tiny-q8_0-mistral-tools";

const tinyShape = {
    dim: 64,
    ffDim: 128,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    vocabSize: 600,
    contextLength: 512,
    seed: 42
} as const;

/**
 * Mixtral's own 32k training context, with heads of 32 (a multiple of the 32-value blocks of
 * q8_0/q4_0, which llama.cpp requires to quantize the KV cache with flash attention): the model for
 * long contexts and quantized KV-cache tests. One head keeps 32k tokens of attention cheap (a 16k-token
 * prompt takes seconds of one core); 32k tokens of its f16 cache take 8 MiB.
 */
const longContextShape = {...tinyShape, dim: 32, heads: 1, kvHeads: 1, contextLength: 32768, seed: 7} as const;

function tinyModel(tensorType: TensorType, chatTemplate: MixtralModelOptions["chatTemplate"], name: string): MixtralModelOptions {
    return {...tinyShape, tensorType, chatTemplate, name};
}

export const testModelOptions: Readonly<Record<TestModelName, MixtralModelOptions>> = {
    "tiny-f32": tinyModel("F32", true, "tiny-mixtral-f32"),
    "tiny-f16": tinyModel("F16", true, "tiny-mixtral-f16"),
    "tiny-q8_0": tinyModel("Q8_0", true, "tiny-mixtral-q8_0"),
    "tiny-q4_0": tinyModel("Q4_0", true, "tiny-mixtral-q4_0"),
    "tiny-q8_0-notemplate": tinyModel("Q8_0", false, "tiny-mixtral-q8_0-notemplate"),
    // A template with tool support of its own: tools in its format, calls in its syntax.
    "tiny-q8_0-mistral-tools": tinyModel("Q8_0", "mistral-tools", "tiny-mixtral-q8_0-mistral-tools"),
    "tiny-32k-q8_0": {...longContextShape, tensorType: "Q8_0", chatTemplate: true, name: "tiny-mixtral-32k-q8_0"}
};

export const testModelNames = Object.keys(testModelOptions) as TestModelName[];

export function testModelsDirectory(): string {
    return resolve(projectRoot(), "test", ".models");
}

export function testModelPath(name: TestModelName): string {
    return join(testModelsDirectory(), `${name}.gguf`);
}

export function testModelPaths(): Record<TestModelName, string> {
    return Object.fromEntries(testModelNames.map((name) => [name, testModelPath(name)])) as Record<TestModelName, string>;
}

/** Writes every missing or outdated test model; cheap when they are all up to date. */
export async function ensureTestModels(): Promise<Record<TestModelName, WriteIfChangedResult>> {
    const results = {} as Record<TestModelName, WriteIfChangedResult>;
    for (const name of testModelNames)
        results[name] = await writeModelIfChanged(testModelPath(name), testModelOptions[name]);
    return results;
}
