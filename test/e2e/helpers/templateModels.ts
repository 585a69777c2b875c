import {afterAll, beforeAll} from "vitest";
import {openModel, type OpenedModel} from "../../../src/engine/index.js";
import {tinyModel} from "./runCli.js";

export type TemplateModels = {
    /** The tiny model with Mixtral's chat template in its file. */
    withTemplate: OpenedModel,
    /** The same without one: chat falls back to Mistral's built-in format. */
    withoutTemplate: OpenedModel
};

/**
 * Opens both tiny models for the calling test file (before its tests) and frees them after it.
 * 256 tokens of context: llama.cpp's smallest (it rounds up to 256), so that a few turns fill it.
 */
export function useTemplateModels(): TemplateModels {
    const models = {} as TemplateModels;
    beforeAll(async () => {
        models.withTemplate = await openModel({path: tinyModel("tiny-q8_0.gguf"), gpu: "cpu", contextSize: 256});
        models.withoutTemplate = await openModel({path: tinyModel("tiny-q8_0-notemplate.gguf"), gpu: "cpu", contextSize: 256});
    });
    afterAll(async () => {
        await models.withTemplate?.dispose();
        await models.withoutTemplate?.dispose();
    });
    return models;
}
