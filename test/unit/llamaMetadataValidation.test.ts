import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {ModelFileError} from "../../src/errors.js";
import {validateGgufFile} from "../../src/gguf/validateGguf.js";
import {damagedMetadataCases, writeDamagedModel} from "../e2e/helpers/damagedMetadata.js";

let dir: string;
const files: string[] = [];
beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-metadata-"));
    for (let index = 0; index < damagedMetadataCases.length; index++) files.push(await writeDamagedModel(dir, index));
});
afterAll(() => fs.rmSync(dir, {recursive: true, force: true}));

describe("metadata llama.cpp would abort on is refused with one sentence naming the key and value", () => {
    test.each(damagedMetadataCases.map((damage, index) => [damage.name, index] as const))("%s", async (_name, index) => {
        const error = await validateGgufFile(files[index]!).then(() => undefined, (caught: unknown) => caught);
        expect(error).toBeInstanceOf(ModelFileError);
        const message = (error as Error).message;
        expect(message).toMatch(damagedMetadataCases[index]!.error);
        expect(message).toMatch(/ is corrupt: [^\n]+\.$/);
    });

    test("the undamaged tiny model passes", async () => {
        const file = path.join(dir, "intact.gguf");
        const {writeGguf} = await import("../../src/gguf/write/writeGguf.js");
        const {mixtralMetadata, mixtralTensors} = await import("../../scripts/gguf/mixtralModel.js");
        const {tinyShape} = await import("../e2e/helpers/damagedMetadata.js");
        await writeGguf(file, mixtralMetadata(tinyShape), mixtralTensors(tinyShape));
        await expect(validateGgufFile(file)).resolves.toMatchObject({path: file});
    });
});
