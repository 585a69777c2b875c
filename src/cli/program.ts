import {Command, Option} from "commander";
import {createRequire} from "node:module";
import {outputFormats} from "../bench/printers/types.js";
import {maxTokensDefaults, maxTopLogprobs, penaltyWindow, samplingDefaults} from "../generator/sampling.js";
import {cacheTypes, flashAttentionModes} from "../hardware/kvCacheTypes.js";
import {defaultPlanContextSize} from "../hardware/memoryBudget.js";
import {integerList, listOption, modelList, parseCacheTypeList, parseFlashAttentionList, parseGpuLayersList, promptGenPair, type BenchOptions} from "./flags/benchFlags.js";
import {addClientTimeoutOptions} from "./flags/clientTimeoutOptions.js";
import {addLoraOptions} from "./flags/loraOptions.js";
import {addExpertsListOption, addExpertsOption, expertsOption} from "./flags/expertsFlag.js";
import {withFlagSuggestion} from "./flags/suggestFlag.js";
import {contextSize, decimal, gpuChoices, gpuLayers, integer, nonEmpty, pathValue, repeatable, schemaArgument} from "./flags/parseOptions.js";
import {disableColor} from "./ui/terminal.js";
import {defaultBodyTimeoutMs} from "../server/core/bodyTimeout.js";

const packageJson = createRequire(import.meta.url)("../../../package.json") as {version: string};

/**
 * The one registry of commands and flags. Each action imports its command module lazily, so
 * `--help`, `--version` and `doctor` work even when the native binding cannot load.
 */
export function buildProgram(): Command {
    const program = new Command("mixtral")
        .description("Run Mixtral 8x7B locally through llama.cpp: chat, complete, bench, pull.")
        .version(packageJson.version, "-V, --version", "the versions of mixtral, node-llama-cpp and llama.cpp, and the backends that load")
        .option("--no-color", "no colours, also set by NO_COLOR")
        .showHelpAfterError("(run with --help for usage)")
        .configureHelp({sortSubcommands: false})
        .exitOverride()
        .hook("preAction", (_thisCommand, actionCommand) => {
            if (actionCommand.optsWithGlobals().color === false) disableColor();
        });

    const chat = program.command("chat")
        .alias("run")
        .description("chat in the terminal; piped, answer stdin (one message, or one a line with --lines)");
    addModelOptions(chat);
    addEndpointOptions(chat);
    addSamplingOptions(chat, {maxTokens: maxTokensDefaults.chat});
    addOutputConstraintOptions(chat);
    chat
        .option("--system <text>", "instructions for the whole conversation (folded into the first message)")
        .option("--lines", "piped: each stdin line is the next message of one conversation")
        .option("--json", "print one JSON object a turn: role, content, tokens, timings")
        .option("--no-history", "do not read or save the prompt history (kept in the config dir)")
        .option("--resume <file>", "start from a conversation saved with /save, with its KV state when the model and context match", pathValue)
        .option("--verbose", "print llama.cpp's log, changes of the thread count, and timings after each answer, on stderr")
        .action(async (options) => {
            const {runChat} = await import("./commands/chat.js");
            await runChat(options);
        });

    const complete = program.command("complete")
        .description("raw completion of a prompt given as an argument or piped on stdin")
        .argument("[prompt]", "the prompt; `-` or none with piped stdin reads stdin");
    addModelOptions(complete);
    addEndpointOptions(complete);
    addSamplingOptions(complete, {maxTokens: maxTokensDefaults.complete});
    addOutputConstraintOptions(complete);
    complete
        .option("--lines", "each stdin line is a prompt: one answer a line, in order, one model load")
        .option("--parallel <n>", "with --lines: decode up to n prompts together (through a server: n requests at a time)", integer(1, 256), 1)
        .option("--json", "print one JSON object with the text, token counts and timings (with --lines: one a line)")
        .option("--logprobs <n>", "with --json: each generated token's log-probability and the n most likely tokens at its place (0-20)", integer(0, maxTopLogprobs))
        .option("--raw", "print the text byte for byte: no newline added after an answer that does not end in one")
        .option("--verbose", "print llama.cpp's log, changes of the thread count, and timings on stderr")
        .action(async (prompt: string | undefined, options) => {
            const {runComplete} = await import("./commands/complete.js");
            await runComplete(prompt, options);
        });

    const serve = program.command("serve")
        .description("keep the model loaded behind an HTTP API that speaks OpenAI's (/v1/chat/completions), Ollama's (/api/chat) and Anthropic's (/v1/messages), batching requests");
    addModelOptions(serve);
    serve
        .option("--host <address>", "address to listen on; 0.0.0.0 for every interface", "127.0.0.1")
        .option("--port <n>", "port to listen on; 0 picks a free one", integer(0, 65535), 8080)
        .option("--parallel <n>", "requests decoded together, each with --context-size tokens (default: up to 4, as many as fit in memory)", integer(1, 256))
        .option("--queue-limit <n>", "requests that may wait for a free sequence before 503", integer(0, 100_000), 64)
        .option("--api-key <key>", "require `Authorization: Bearer <key>` (default: $MIXTRAL_API_KEY)")
        .option("--alias <name>", "the model's id in /v1/models (default: the file name without .gguf); requests may name any model", nonEmpty)
        .option("--stream-interval <ms>", "write streamed text at most every <ms>, several tokens a write when faster; 0: every token", integer(0, 10_000), 30)
        .option("--cors <origin>", "let web pages from this origin call the API (repeatable; '*' for any); pages of this machine (localhost) always may", repeatable)
        .option("--body-timeout <s>", "seconds a client may take to send a whole request (headers and body) before it gets 408", decimal(0.001, 86_400), defaultBodyTimeoutMs / 1000)
        .option("--verbose", "print llama.cpp's log and changes of the thread count on stderr")
        .action(async (options) => {
            const {runServe} = await import("./commands/serve.js");
            await runServe(options);
        });

    // llama-bench's flags and defaults; lists (comma-separated) run every combination.
    const bench = program.command("bench")
        .description("measure prompt (pp) and generation (tg) tok/s like llama-bench, with the memory-bandwidth roofline")
        .option("-m, --model <name>", "a catalog name (instruct:Q4_K_M, Q5_K_M), a .gguf path, hf:<owner>/<repo>/<file>.gguf or an https URL; several (repeated or comma-separated) are compared", modelList)
        .addOption(listOption("-p, --n-prompt <list>", "prompt sizes to time (pp); 0 skips", integerList("-p", 0), "512"))
        .addOption(listOption("-n, --n-gen <list>", "generation lengths to time (tg); 0 skips", integerList("-n", 0), "128"))
        .option("--pg <pp,tg>", "prompt then generation, timed together (repeatable)", promptGenPair)
        .addOption(listOption("-d, --n-depth <list>", "tokens already in the context before each test", integerList("-d", 0), "0"))
        .option("-r, --repetitions <n>", "timed repetitions of each test", integer(1, 1000), 5)
        .addOption(listOption("-t, --threads <list>", "CPU threads (default: one a math core, as llama.cpp: no hyper-threads or efficiency cores)", integerList("-t", 1, 1024)))
        .addOption(new Option("--gpu <backend>", "compute backend").choices(gpuChoices).default("auto"))
        .addOption(listOption("--gpu-layers <list>", "layers to offload: numbers or max", parseGpuLayersList, "max"))
        .option("-b, --batch-size <n>", "tokens per llama_decode call (n_batch = n_ubatch)", integer(1, 1_048_576), 512)
        .addOption(listOption("--cache-type-k <list>", `KV cache type of keys, -ctk: ${cacheTypes.join(", ")}`, (value) => parseCacheTypeList("-ctk", value), "f16"))
        .addOption(listOption("--cache-type-v <list>", `KV cache type of values, -ctv: ${cacheTypes.join(", ")}`, (value) => parseCacheTypeList("-ctv", value), "f16"))
        .addOption(listOption("--flash-attn [list]", "flash attention, -fa: 1/on, 0/off, auto (alone: 1)", parseFlashAttentionList, "auto"))
        .addOption(new Option("-o, --output <format>", "table on a terminal, md otherwise").choices(outputFormats))
        .addOption(new Option("--mode <mode>", "e2e also times tokenize → generate → sample → detokenize").choices(["throughput", "e2e"]).default("throughput"))
        .option("--no-warmup", "skip the untimed warm-up run")
        .option("--bandwidth <GB/s>", "memory bandwidth for the roofline (default: known GPU, or a CPU RAM read test)", decimal(0.001, 1_000_000))
        .option("--compare <previous.json>", "show each row's tok/s ratio to a previous `-o json` run", pathValue)
        .option("--plot <file.svg>", "write an SVG chart of tok/s per model and test, roofline marked", pathValue)
        .option("--verbose", "print llama.cpp's log and failure hints on stderr")
        .option("--endpoint <url>", "benchmark this OpenAI-compatible server instead (like vLLM's benchmark_serving): -p/-n set prompt words and max_tokens")
        .addOption(listOption("--concurrency <list>", "with --endpoint: requests in flight at once, one row each", integerList("--concurrency", 1, 4096), "1,4,8"))
        .option("--requests <n>", "with --endpoint: requests sent at each concurrency level", integer(1, 1_000_000), 32)
        .action(async (options: BenchOptions) => {
            if (options.endpoint != null) {
                const {runServingBenchCommand} = await import("./commands/benchServing.js");
                await runServingBenchCommand({...options, endpoint: options.endpoint});
                return;
            }
            const {runBenchCommand} = await import("./commands/bench.js");
            await runBenchCommand(options);
        });
    addLoraOptions(bench);
    addExpertsListOption(bench);
    addClientTimeoutOptions(bench);

    // llama-perplexity's flags and defaults (-c 512, -b 2048: four 512-token chunks a decode).
    program.command("perplexity")
        .description("measure a model's perplexity on a text as llama-perplexity does, or its KL divergence from a base model's logits")
        .option("-m, --model <name>", "a .gguf path or catalog name; several (repeated or comma-separated) print a comparison table", modelList)
        .option("-f, --file <file>", "the text to score, e.g. Wikitext-2's wiki.test.raw", pathValue)
        .option("-c, --context-size <tokens>", "tokens a chunk; the second half of each is scored (default: 512, or the base file's)", contextSize)
        .option("-b, --batch-size <n>", "tokens a decode: b/c chunks decode together", integer(1, 1_048_576), 2048)
        .option("--chunks <n>", "score at most the first n chunks", integer(1))
        .option("-t, --threads <n>", "CPU threads (default: one a math core, as llama.cpp: no hyper-threads or efficiency cores)", integer(1, 1024))
        .addOption(new Option("--gpu <backend>", "compute backend").choices(gpuChoices).default("auto"))
        .option("--gpu-layers <n>", "layers to offload to the GPU, -ngl: a number, auto or max", gpuLayers)
        .addOption(expertsOption())
        .option("--kl-divergence-base <file>", "alone: write the model's log-probabilities to this file (llama-perplexity's format); with --kl-divergence or several -m: the base to compare with", pathValue)
        .option("--kl-divergence", "compare with --kl-divergence-base: KL divergence, Δp, same top token, PPL(Q)/PPL(base)")
        .option("--hellaswag", "score -f as HellaSwag tasks (llama.cpp's 6-lines-a-task file): acc_norm with its 95% interval")
        .option("--hellaswag-tasks <n>", "with --hellaswag: tasks to score, picked as llama-perplexity picks them", integer(1), 400)
        .option("--json", "print one JSON object (several -m: an array) with ppl, ppl_sd, kld, same_top_pct, tokens/s")
        .option("-y, --yes", "download a catalog model that is not there yet without asking")
        .option("--verbose", "print llama.cpp's log on stderr")
        .action(async (options) => {
            const {runPerplexity} = await import("./commands/perplexity.js");
            await runPerplexity(options);
        });

    program.command("pull")
        .description("download a model into the store, resumable and sha256-verified; prints its path")
        .argument("<name>", "a catalog name (see `mixtral models`), hf:<owner>/<repo>/<file>.gguf or an https URL")
        .option("--json", "print the path, size and sha256 as JSON")
        .option("--no-reuse", "do not look for copies in the Hugging Face cache, LM Studio or Ollama")
        .option("--verbose", "say where the file comes from and goes, and show causes of failures")
        .action(async (name: string, options) => {
            const {runPull} = await import("./commands/pull.js");
            await runPull(name, options);
        });

    program.command("list")
        .alias("ls")
        .description("list the downloaded models only (`models` shows the whole catalog)")
        .option("--json", "print the list as JSON")
        .action(async (options) => {
            const {runListDownloaded} = await import("./commands/listDownloaded.js");
            await runListDownloaded(options);
        });

    const models = program.command("models")
        .description("list the catalog with what is downloaded, sizes and paths")
        .option("--json", "print the list as JSON")
        .action(async (options) => {
            const {runModelsList} = await import("./commands/models.js");
            await runModelsList(options);
        });
    models.command("rm")
        .description("remove a downloaded model (and any partial download) from the store")
        .argument("<name>", "a catalog name or a file name in the store")
        .action(async (name: string) => {
            const {runModelsRm} = await import("./commands/models.js");
            await runModelsRm(name);
        });
    models.command("path")
        .description("print the file path of a downloaded model, for scripts")
        .argument("<name>", "a catalog name")
        .action(async (name: string) => {
            const {runModelsPath} = await import("./commands/models.js");
            await runModelsPath(name);
        });

    program.command("adapter")
        .description("LoRA adapters: convert a PEFT adapter to GGUF for --lora")
        .command("convert")
        .description("convert a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) to a GGUF adapter; prints its path")
        .argument("<folder>", "the folder PEFT saved the adapter to", pathValue)
        .option("-o, --output <file.gguf>", "where to write it (default: <folder>/adapter_model.gguf)", pathValue)
        .option("--base <model>", "the base model (a .gguf or a downloaded catalog name): its heads order Q/K rows, and the adapter is checked against it")
        .addOption(new Option("--type <type>", "tensor type of the adapter").choices(["f32", "f16"]).default("f32"))
        .option("--json", "print the output path, size, rank and alpha as JSON")
        .action(async (folder: string, options) => {
            const {runAdapterConvert} = await import("./commands/adapter.js");
            await runAdapterConvert(folder, options);
        });

    program.command("doctor")
        .description("show this machine's backends, GPUs, memory and disk, and the model plan that fits them")
        .addOption(new Option("--gpu <backend>", "plan for another machine with this GPU type instead of probing; auto: this machine's, as with no --gpu").choices(gpuChoices))
        .option("--vram <size>", "that machine's GPU memory, e.g. 24GB (1 GB = 1024³ bytes, as memory is sold)")
        .option("--ram <size>", "that machine's RAM (unified memory on metal), e.g. 64GB")
        .option("--quant <quant>", "plan this quant instead of the best that fits, e.g. Q4_K_M")
        .option("-c, --context-size <tokens>", `plan for this context window (default: ${defaultPlanContextSize})`, contextSize)
        .option("--gpu-layers <n>", "plan with this many layers on the GPU: a number or max", gpuLayers)
        .addOption(new Option("--cache-type-k <type>", "plan with this KV cache type of keys instead of choosing").choices(cacheTypes))
        .addOption(new Option("--cache-type-v <type>", "plan with this KV cache type of values instead of choosing").choices(cacheTypes))
        .addOption(new Option("--flash-attention <mode>", "plan with flash attention on, off or auto").choices(flashAttentionModes))
        .addOption(expertsOption("plan decode with this many experts a token instead of Mixtral's 2: bytes read and the tok/s ceiling"))
        .option("--json", "print the probe and the plan as JSON")
        .action(async (options) => {
            const {runDoctor} = await import("./commands/doctor.js");
            await runDoctor(options);
        });

    writeDefaultsAsTyped(program);
    suggestOurFlags(program);
    return program;
}

/** Each command's unknown-flag error names our flag for a llama.cpp or Ollama one, when it has it. */
function suggestOurFlags(command: Command) {
    command.configureOutput({outputError: (text, write) => write(withFlagSuggestion(text, command.options.map((option) => option.long)))});
    for (const sub of command.commands) suggestOurFlags(sub);
}

/**
 * Help writes every default one way, as it would be typed: `(default: auto)` beside `(default: 64)`,
 * where commander quotes the string ones (`(default: "auto")`).
 */
function writeDefaultsAsTyped(command: Command) {
    for (const option of command.options)
        if (typeof option.defaultValue === "string" && option.defaultValueDescription == null) option.defaultValueDescription = option.defaultValue;
    for (const sub of command.commands) writeDefaultsAsTyped(sub);
}

/** Model, engine and placement flags shared by every command that loads a model. */
function addModelOptions(command: Command) {
    command
        .option("-m, --model <name>", "a catalog name (instruct:Q4_K_M, base:Q8_0, Q5_K_M, aurora), a .gguf path, hf:<owner>/<repo>/<file>.gguf or an https URL")
        .option("-y, --yes", "download a catalog model that is not there yet without asking")
        .option("-c, --context-size <tokens>", "context window in tokens", contextSize)
        .option("-t, --threads <n>", "CPU threads for every decode (default: one a math core, as llama.cpp: no hyper-threads or efficiency cores; fewer while other processes keep cores busy)", integer(1, 1024))
        .addOption(new Option("--gpu <backend>", "compute backend").choices(gpuChoices).default("auto"))
        .option("--gpu-layers <n>", "layers to offload to the GPU: a number, auto or max", gpuLayers)
        .option("--quant <quant>", "without --model: use this quant of the catalog instead of the planned one, e.g. Q4_K_M")
        .addOption(new Option("--cache-type-k <type>", "KV cache type of keys, -ctk (default: by use — q8_0 for chat and serve on the CPU, with flash attention off; f16 for a long complete and on GPUs — or the plan's)").choices(cacheTypes))
        .addOption(new Option("--cache-type-v <type>", "KV cache type of values, -ctv; quantized needs flash attention (default: f16, or the plan's)").choices(cacheTypes))
        .addOption(new Option("--flash-attention <mode>", "flash attention, -fa: auto uses it where the backend can (default: auto; off with chat and serve's q8_0 keys on the CPU; or the plan's)").choices(flashAttentionModes));
    addLoraOptions(command);
    addExpertsOption(command);
}

/** Output that always parses: enforced at the sampler by a grammar (see src/grammar/). */
function addOutputConstraintOptions(command: Command) {
    command
        .option("--json-schema <file|json>", "the output is one JSON value valid against this schema (a file or inline JSON)", (value: string) => schemaArgument(value))
        .option("--grammar <file.gbnf>", "the output follows this llama.cpp GBNF grammar", pathValue)
        .addOption(new Option("--format <format>", "json: the output is one JSON object").choices(["json"]));
}

/** chat and complete as clients of an OpenAI-compatible server (src/remote/). */
function addEndpointOptions(command: Command) {
    command
        .option("--endpoint <url>", "use this OpenAI-compatible server instead of loading the model, e.g. http://127.0.0.1:8080/v1 (also MIXTRAL_ENDPOINT; key in MIXTRAL_API_KEY)")
        .option("--no-server", "load the model here even when a `mixtral serve` of the same file runs on this machine");
    addClientTimeoutOptions(command);
}

type SamplingDefaults = {maxTokens: number};

/** Sampling flags; defaults follow llama.cpp's (repeat penalty off, min-p 0.05). */
function addSamplingOptions(command: Command, defaults: SamplingDefaults) {
    command
        .option("-n, --max-tokens <n>", "most tokens to generate", integer(0), defaults.maxTokens)
        .option("--temperature <t>", "sampling temperature; 0 is greedy", decimal(0, 100), samplingDefaults.temperature)
        .option("--top-k <k>", "sample from the k most likely tokens; 0 is off", integer(0), samplingDefaults.topK)
        .option("--top-p <p>", "nucleus sampling threshold; 1 is off", decimal(0, 1), samplingDefaults.topP)
        .option("--min-p <p>", "drop tokens below this fraction of the best one; 0 is off", decimal(0, 1), samplingDefaults.minP)
        .option("--repeat-penalty <x>", `penalty for the last ${penaltyWindow} tokens; 1 is off`, decimal(0, 100), samplingDefaults.repeatPenalty)
        .option("--seed <n>", "random seed for reproducible sampling", integer(0, 2 ** 32 - 1))
        .option("--stop <text>", "stop when this text is generated (repeatable)", repeatable);
}
