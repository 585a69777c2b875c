import type {Argument, Command, Option} from "commander";
import path from "node:path";
import {pathToFileURL} from "node:url";
import {describe, expect, test} from "vitest";
import {fileArgument} from "../../src/cli/chat/fileArgument.js";
import {loadCatalog} from "../../src/models/catalog.js";
import {parseModelSpec} from "../../src/models/resolveName.js";
import {storeDir} from "../../src/models/store.js";
import {expandHome, homeFolder} from "../../src/userFolders.js";
import {repoRoot} from "../e2e/helpers/runCli.js";

// cmd.exe and PowerShell never expand `~`, and a POSIX shell leaves a quoted "~/x" as typed: every
// path a user gives mixtral expands a leading `~` itself, on every system, through one helper.

const linux = {platform: "linux" as const, env: {HOME: "/home/ada"}};
const mac = {platform: "darwin" as const, env: {HOME: "/Users/ada"}};
const windows = {platform: "win32" as const, env: {USERPROFILE: "C:\\Users\\ada", HOME: "/c/Users/ada"}};

describe("expandHome", () => {
    test("~ and ~/… on every system; ~\\… on Windows, where \\ separates", () => {
        expect(expandHome("~/models/x.gguf", linux)).toBe("/home/ada/models/x.gguf");
        expect(expandHome("~", mac)).toBe("/Users/ada");
        expect(expandHome("~\\models\\x.gguf", windows)).toBe("C:\\Users\\ada\\models\\x.gguf");
        expect(expandHome("~/models/x.gguf", windows)).toBe("C:\\Users\\ada\\models\\x.gguf");
    });

    test("~user, a ~ inside a name, and ~\\ off Windows (a legal file name there) are left as typed", () => {
        for (const value of ["~bob/x.gguf", "./~/x", "a~/x", "~\\x"]) expect(expandHome(value, linux)).toBe(value);
    });

    test("a model path, chat's /save and /load, and MIXTRAL_MODELS", () => {
        expect(parseModelSpec("~/x.gguf", loadCatalog(), mac.env, "darwin")).toEqual({kind: "path", path: "/Users/ada/x.gguf"});
        expect(parseModelSpec("~\\x.gguf", loadCatalog(), windows.env, "win32")).toEqual({kind: "path", path: "C:\\Users\\ada\\x.gguf"});
        expect(fileArgument("'~/my talk.json'", linux)).toBe("/home/ada/my talk.json");
        expect(fileArgument("~\\talk.json", windows)).toBe("C:\\Users\\ada\\talk.json");
        expect(storeDir({MIXTRAL_MODELS: "~/models"}, {...linux, env: {...linux.env, MIXTRAL_MODELS: "~/models"}, exists: () => false})).toBe("/home/ada/models");
    });
});

// The registry as built (dist/), as flagConsistency.test.ts reads it.
const {buildProgram} = await import(pathToFileURL(path.join(repoRoot, "dist", "src", "cli", "program.js")).href) as {buildProgram: () => Command};

function everyCommand(command: Command): Command[] {
    return [command, ...command.commands.flatMap(everyCommand)];
}

/** A flag or argument whose value names a file or folder (models go through parseModelSpec, tested above). */
const pathPlaceholder = /<[^>]*(file|folder|\.json|\.svg|\.gguf|\.gbnf)[^>]*>/;

describe("every path flag of every command", () => {
    const home = homeFolder({env: process.env, platform: process.platform});
    const commands = everyCommand(buildProgram());
    const options = commands.flatMap((command) => command.options.map((option: Option) => ({name: `${command.name()} ${option.flags}`, option})))
        .filter(({option}) => pathPlaceholder.test(option.flags) && !/--lora/.test(option.flags));

    test("the flags are found (a new path flag joins by naming its value <file…>)", () => {
        const names = options.map(({name}) => name);
        for (const expected of ["chat --resume <file>", "chat --json-schema <file|json>", "complete --grammar <file.gbnf>", "bench --compare <previous.json>",
            "bench --plot <file.svg>", "perplexity -f, --file <file>", "perplexity --kl-divergence-base <file>", "convert -o, --output <file.gguf>"])
            expect(names).toContain(expected);
    });

    test("each expands a leading ~", () => {
        for (const {name, option} of options) expect(option.parseArg?.("~/x", undefined), name).toBe(path.join(home, "x"));
    });

    test("adapter convert's <folder>, --lora and --lora-scaled", () => {
        const convert = commands.find((command) => command.name() === "convert")!;
        const folder = (convert as Command & {registeredArguments: readonly Argument[]}).registeredArguments[0]!;
        expect(folder.parseArg?.("~/adapter", undefined)).toBe(path.join(home, "adapter"));
        const complete = commands.find((command) => command.name() === "complete")!;
        const lora = complete.options.find((option) => option.long === "--lora")!;
        const scaled = complete.options.find((option) => option.long === "--lora-scaled")!;
        expect(lora.parseArg?.("~/a.gguf:0.5", undefined)).toEqual([{path: path.join(home, "a.gguf"), scale: 0.5}]);
        expect(scaled.parseArg?.("~/b.gguf\0" + "2", undefined)).toEqual([{path: path.join(home, "b.gguf"), scale: 2}]);
    });
});
