import {Command, Option} from "commander";
import {createRequire} from "node:module";
import {decimal, gpuChoices, gpuLayers, integer, repeatable} from "./parseOptions.js";
import {disableColor} from "./ui/terminal.js";

const packageJson = createRequire(import.meta.url)("../../../package.json") as {version: string};

/**
 * The one registry of commands and flags. Each action imports its command module lazily, so
 * `--help`, `--version` and `doctor` work even when the native binding cannot load.
 */
export function buildProgram(): Command {
    const program = new Command("mixtral")
        .description("Run Mixtral 8x7B locally through llama.cpp: chat, complete, bench, pull.")
        .version(packageJson.version, "-V, --version")
        .option("--no-color", "no colours, also set by NO_COLOR")
        .showHelpAfterError("(run with --help for usage)")
        .configureHelp({sortSubcommands: false})
        .exitOverride()
        .hook("preAction", (_thisCommand, actionCommand) => {
            if (actionCommand.optsWithGlobals().color === false) disableColor();
        });

    const complete = program.command("complete")
        .description("raw completion of a prompt given as an argument or piped on stdin")
        .argument("[prompt]", "the prompt; `-` or none with piped stdin reads stdin");
    addModelOptions(complete);
    addSamplingOptions(complete, {maxTokens: 256});
    complete
        .option("--json", "print one JSON object with the text, token counts and timings")
        .option("--verbose", "print llama.cpp's log and timings on stderr")
        .action(async (prompt: string | undefined, options) => {
            const {runComplete} = await import("./commands/complete.js");
            await runComplete(prompt, options);
        });

    return program;
}

/** Model, engine and placement flags shared by every command that loads a model. */
export function addModelOptions(command: Command) {
    command
        .option("-m, --model <path>", "a GGUF file path")
        .option("-c, --context-size <tokens>", "context window in tokens", integer(16, 1_048_576))
        .option("-t, --threads <n>", "CPU threads (default: the usable cores)", integer(1, 1024))
        .addOption(new Option("--gpu <backend>", "compute backend").choices(gpuChoices).default("auto"))
        .option("--gpu-layers <n>", "layers to offload to the GPU: a number, auto or max", gpuLayers);
}

export type SamplingDefaults = {maxTokens: number};

/** Sampling flags; defaults follow llama.cpp's (repeat penalty off, min-p 0.05). */
export function addSamplingOptions(command: Command, defaults: SamplingDefaults) {
    command
        .option("-n, --max-tokens <n>", "most tokens to generate", integer(0), defaults.maxTokens)
        .option("--temperature <t>", "sampling temperature; 0 is greedy", decimal(0, 100), 0.8)
        .option("--top-k <k>", "sample from the k most likely tokens; 0 is off", integer(0), 40)
        .option("--top-p <p>", "nucleus sampling threshold; 1 is off", decimal(0, 1), 0.95)
        .option("--min-p <p>", "drop tokens below this fraction of the best one; 0 is off", decimal(0, 1), 0.05)
        .option("--repeat-penalty <x>", "penalty for the last 64 tokens; 1 is off", decimal(0, 100), 1)
        .option("--seed <n>", "random seed for reproducible sampling", integer(0, 2 ** 32 - 1))
        .option("--stop <text>", "stop when this text is generated (repeatable)", repeatable);
}
