import type {Command} from "commander";
import path from "node:path";
import {pathToFileURL} from "node:url";
import {describe, expect, it} from "vitest";
import {expandLlamaCppFlagAliases} from "../../src/cli/flags/llamaCppFlagAliases.js";
import {repoRoot} from "../e2e/helpers/runCli.js";

/**
 * Flags read the same way across commands (issue 22, item 18). The registry is the built one
 * (dist/, `npm run build`), as in docsCommands.test.ts: it reads package.json relative to dist/.
 */
const {buildProgram} = await import(pathToFileURL(path.join(repoRoot, "dist", "src", "cli", "program.js")).href) as {buildProgram: () => Command};

function errorOf(args: string[]): string {
    const program = buildProgram();
    let written = "";
    for (const command of everyCommand(program)) command.configureOutput({writeErr: (text) => { written += text; }});
    expect(() => program.parse(expandLlamaCppFlagAliases(["node", "mixtral", ...args]))).toThrow();
    return written;
}

function everyCommand(command: Command): Command[] {
    return [command, ...command.commands.flatMap(everyCommand)];
}

describe("flags across commands", () => {
    it("an unknown flag from llama.cpp or Ollama gets our name as a did-you-mean", () => {
        expect(errorOf(["complete", "--temp", "0", "x"])).toMatch(/unknown option '--temp'\n\(Did you mean --temperature\?\)/);
        expect(errorOf(["chat", "--ctx-size", "512"])).toMatch(/\(Did you mean --context-size\?\)/);
        expect(errorOf(["chat", "--n-predict=4"])).toMatch(/\(Did you mean --max-tokens\?\)/);
        // Only a flag the command has: serve takes no --max-tokens (a request sets it).
        expect(errorOf(["serve", "--n-predict=4"])).not.toMatch(/Did you mean --max-tokens/);
        // Commander's own suggestion stays for a typo.
        expect(errorOf(["complete", "--threds", "2", "x"])).toMatch(/\(Did you mean --threads\?\)/);
    });

    it("takes llama.cpp's -ngl as --gpu-layers, not as -n gl", () => {
        expect(expandLlamaCppFlagAliases(["node", "mixtral", "chat", "-ngl", "99"])).toEqual(["node", "mixtral", "chat", "--gpu-layers", "99"]);
    });

    it("names --model's value <name> on every command: a catalog name or a path alike (bench's too)", () => {
        const modelFlags = everyCommand(buildProgram()).flatMap((command) => command.options.filter((option) => option.long === "--model").map((option) => `${command.name()} ${option.flags}`));
        expect(modelFlags.length).toBeGreaterThanOrEqual(5);
        expect(modelFlags.filter((flags) => !flags.endsWith("-m, --model <name>"))).toEqual([]);
    });

    it("takes --gpu auto on every command that has --gpu, doctor included", () => {
        const gpuFlags = everyCommand(buildProgram()).flatMap((command) => command.options.filter((option) => option.long === "--gpu").map((option) => ({command: command.name(), choices: option.argChoices})));
        expect(gpuFlags.map(({command}) => command)).toContain("doctor");
        expect(gpuFlags.filter(({choices}) => !(choices ?? []).includes("auto"))).toEqual([]);
    });

    it("writes every default in help one way: (default: …)", () => {
        const descriptions = everyCommand(buildProgram()).flatMap((command) => command.options.map((option) => `${command.name()} ${option.flags}: ${option.description}`));
        expect(descriptions.filter((text) => /\(default [^:]|, default [^:]/.test(text))).toEqual([]);
        // As typed, never quoted: (default: auto) beside (default: 64).
        const help = everyCommand(buildProgram()).map((command) => command.helpInformation()).join("\n");
        expect(help.match(/default: "[^"]*"/g) ?? []).toEqual([]);
        expect(help).toMatch(/\(default: 512\)/);
    });
});
