import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {runInPty} from "./helpers/pty.js";
import {runCli} from "./helpers/runCli.js";

/** NO_COLOR and FORCE_COLOR as other command-line tools honour them. */
const colourCode = /\u001b\[[\d;]*m/;
let store: string;

beforeAll(() => {
    store = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-colour-"));
});

afterAll(() => {
    fs.rmSync(store, {recursive: true, force: true});
});

describe("colour conventions", () => {
    it("NO_COLOR turns off every colour on a terminal, the spinner's too", async () => {
        const doctor = runInPty(["doctor"], {env: {NO_COLOR: "1", MIXTRAL_MODELS: store}});
        expect(await doctor.exit(60_000)).toBe(0);
        // The spinner did run (it hides the cursor), in no colour.
        expect(doctor.raw()).toContain("\u001b[?25l");
        expect(doctor.raw()).not.toMatch(colourCode);
    });

    it("without NO_COLOR the same terminal gets colours (so the check above can fail)", async () => {
        const doctor = runInPty(["doctor"], {env: {MIXTRAL_MODELS: store}});
        expect(await doctor.exit(60_000)).toBe(0);
        expect(doctor.raw()).toMatch(colourCode);
    });

    it("FORCE_COLOR=1 colours output into a pipe", async () => {
        const models = await runCli(["models"], {env: {FORCE_COLOR: "1", MIXTRAL_MODELS: store}});
        expect(models.code).toBe(0);
        expect(models.stdout).toMatch(colourCode);
    });

    it("FORCE_COLOR=0 turns colours off on a terminal", async () => {
        const models = runInPty(["models"], {env: {FORCE_COLOR: "0", MIXTRAL_MODELS: store}});
        expect(await models.exit()).toBe(0);
        expect(models.screen()).toContain("instruct:Q4_K_M");
        expect(models.raw()).not.toMatch(colourCode);
    });

    it("--no-color wins over FORCE_COLOR", async () => {
        const models = await runCli(["models", "--no-color"], {env: {FORCE_COLOR: "1", MIXTRAL_MODELS: store}});
        expect(models.code).toBe(0);
        expect(models.stdout).not.toMatch(colourCode);
    });
});
