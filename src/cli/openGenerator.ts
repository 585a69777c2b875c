import type {TextGenerator} from "../generator/textGenerator.js";
import type {ModelUse} from "../engine/index.js";
import {EndpointError, UsageError} from "../errors.js";
import {describeEndpoint, parseEndpoint} from "../remote/endpointUrl.js";
import {findLocalServer} from "../remote/findLocalServer.js";
import {listModelIds} from "../remote/openAiClient.js";
import {remoteGenerator} from "../remote/remoteGenerator.js";
import {clientTimeoutsFrom, type ClientTimeoutFlags} from "./flags/clientTimeoutOptions.js";
import type {ModelFlags} from "./loadModelWithProgress.js";
import {resolveModelFlags} from "./resolveModelPath.js";
import {logLine} from "./ui/terminal.js";
import {checkExpertsOfFile} from "../gguf/expertsUsed.js";

export type GeneratorFlags = ModelFlags & ClientTimeoutFlags & {
    /** --endpoint <base url>, else MIXTRAL_ENDPOINT. */
    endpoint?: string,
    /** --no-server sets this to false: never use a running `mixtral serve`. */
    server?: boolean
};

/** The engine flags a server ignores: it loaded its model with its own. */
function placementFlagsGiven(flags: GeneratorFlags): string[] {
    const given: string[] = [];
    if (flags.threads != null) given.push("--threads");
    if (flags.gpuLayers != null) given.push("--gpu-layers");
    if (flags.contextSize != null) given.push("--context-size");
    if (flags.gpu !== "auto" && flags.gpu != null) given.push("--gpu");
    if (flags.cacheTypeK != null) given.push("--cache-type-k");
    if (flags.cacheTypeV != null) given.push("--cache-type-v");
    if (flags.flashAttention != null) given.push("--flash-attention");
    return given;
}

function noteIgnoredFlags(flags: GeneratorFlags, where: string) {
    const ignored = placementFlagsGiven(flags);
    if (ignored.length > 0) logLine(`note: ${ignored.join(", ")} ${ignored.length === 1 ? "has" : "have"} no effect here: ${where} runs the model with its own settings.`);
}

/** MIXTRAL_API_KEY, the key sent to servers (an empty value is none). */
export function apiKey(): string | undefined {
    const key = process.env.MIXTRAL_API_KEY;
    return key == null || key === "" ? undefined : key;
}

/** --endpoint, else MIXTRAL_ENDPOINT (an empty value is none). */
export function endpointOf(flags: GeneratorFlags): string | undefined {
    return flags.endpoint ?? (process.env.MIXTRAL_ENDPOINT === "" ? undefined : process.env.MIXTRAL_ENDPOINT);
}

/**
 * What the command needs beyond plain text: a grammar, and its OpenAI form when it has one; how many
 * prompts completeEach runs at once (complete --lines --parallel); what a model loaded here is for
 * (it chooses the KV cache's type on the CPU).
 */
export type GeneratorNeeds = {grammar: boolean, responseFormat?: Record<string, unknown>, parallel?: number, use?: ModelUse};

/**
 * Where complete and chat get their text: --endpoint (or MIXTRAL_ENDPOINT) names a server; else
 * a `mixtral serve` on this machine that holds the same model file is used (unless --no-server);
 * else the model is loaded here. The engine (node-llama-cpp) is imported only in that last case,
 * so a client call starts as fast as `mixtral --help`.
 */
export async function openGenerator(flags: GeneratorFlags, signal: AbortSignal, needs: GeneratorNeeds = {grammar: false}): Promise<TextGenerator> {
    const endpointValue = endpointOf(flags);
    const adapters = (flags.lora?.length ?? 0) + (flags.loraScaled?.length ?? 0);
    if (endpointValue != null) {
        // What only the engine here can do; a server would silently answer without it.
        // --json-schema and --format travel as response_format; a GBNF grammar has no OpenAI form.
        if (needs.grammar && needs.responseFormat == null)
            throw new UsageError("--grammar is not sent to servers (OpenAI's API has no GBNF): the output would not be constrained.", {
                hint: "Run without --endpoint (and unset MIXTRAL_ENDPOINT) to enforce it with the engine here, or use --json-schema."
            });
        if (adapters > 0)
            throw new UsageError("--lora applies when a model loads, so it does not combine with --endpoint.", {hint: "Load the adapter in the server instead, or run without --endpoint."});
        if (flags.experts != null)
            throw new UsageError("--experts applies when a model loads, so it does not combine with --endpoint.", {hint: "Start the server with --experts instead (mixtral serve --experts N), or run without --endpoint."});
        return await connectToEndpoint(endpointValue, flags, signal, needs);
    }

    const resolved = await resolveModelFlags(flags, signal);
    // Before any load, and before choosing a server: a bad --experts is a usage error here.
    const experts = await checkExpertsOfFile(resolved.path, flags.experts);
    // A server answers with the experts it was started with; the file's own count is no override.
    const expertsUsed = experts == null || experts.used === experts.fileUsed ? undefined : experts.used;
    // A running server has the plain model: a grammar or an adapter needs the engine here.
    const serverCan = !needs.grammar && adapters === 0 && (resolved.lora?.length ?? 0) === 0;
    if (flags.server !== false && serverCan) {
        const {server, skipped} = await findLocalServer(resolved.path, process.env, {expertsUsed});
        if (flags.verbose === true) for (const reason of skipped) logLine(`not using ${reason}.`);
        if (server != null) {
            if (flags.verbose === true)
                logLine(`using the mixtral serve at ${server.baseUrl} (pid ${server.pid}), which has ${resolved.path} loaded; --no-server loads it here instead`);
            noteIgnoredFlags(flags, `the mixtral serve at ${server.baseUrl}`);
            return remoteGenerator({baseUrl: parseEndpoint(server.baseUrl), apiKey: apiKey(), timeouts: clientTimeoutsFrom(flags), modelId: server.modelId, modelLabel: resolved.path,
                parallel: needs.parallel});
        }
    }
    const {loadModelWithProgress} = await import("./loadModelWithProgress.js");
    const {localGenerator} = await import("../engine/index.js");
    const parallel = needs.parallel ?? 1;
    return localGenerator(await loadModelWithProgress(resolved, flags, signal, {sequences: parallel, use: needs.use}), {parallel});
}

/**
 * The model name to send: --model when the server lists it; else the file name --model points at
 * without ".gguf" when the server lists that (how ours and llama-server name a file, so the same
 * `-m model.gguf` works with and without --endpoint); else --model as given (the server's error
 * then says what it knows); without --model, the first id the server lists.
 */
export function chooseModelId(listed: readonly string[], requested: string | undefined): string | undefined {
    if (requested == null) return listed[0];
    if (listed.includes(requested)) return requested;
    const fileName = requested.split(/[\\/]/).pop()?.replace(/\.gguf$/i, "");
    if (fileName != null && listed.includes(fileName)) return fileName;
    return requested;
}

/** --endpoint: a server somewhere, whatever it runs. */
async function connectToEndpoint(value: string, flags: GeneratorFlags, signal: AbortSignal, needs: GeneratorNeeds): Promise<TextGenerator> {
    const baseUrl = parseEndpoint(value);
    const config = {baseUrl, apiKey: apiKey(), timeouts: clientTimeoutsFrom(flags)};
    let listed: string[] = [];
    try {
        listed = await listModelIds(config, signal);
    } catch (error) {
        // A server without GET /models can still be used when the name is given.
        if (flags.model == null || !(error instanceof EndpointError) || !/HTTP 404/.test(error.message)) throw error;
    }
    const modelId = chooseModelId(listed, flags.model);
    if (modelId == null)
        throw new EndpointError(`${describeEndpoint(baseUrl)} lists no models (GET /models).`, {hint: "Pass the model name the server expects with --model."});
    if (flags.verbose === true) logLine(`using the server at ${describeEndpoint(baseUrl)}, model "${modelId}"`);
    noteIgnoredFlags(flags, "the server");
    return remoteGenerator({...config, modelId, modelLabel: modelId, responseFormat: needs.responseFormat, parallel: needs.parallel});
}
