import {realpath} from "node:fs/promises";
import type {AddressInfo} from "node:net";
import path from "node:path";
import {openServingModel, type ServingModel} from "../../engine/index.js";
import {MixtralError, ModelFileError, UsageError} from "../../errors.js";
import {announceServer, thisProcessIdentity, withdrawServer} from "../../remote/serverRegistry.js";
import {fileIdentity} from "../../gguf/fileIdentity.js";
import {createApiServer} from "../../server/apiServer.js";
import {claimSignal, interruptController} from "../interrupt.js";
import {describeKvCache, type ModelFlags} from "../loadModelWithProgress.js";
import {kvCacheFrom} from "../../hardware/kvCacheSettings.js";
import {describeThreadSwitch} from "../describeThreadSwitch.js";
import {loraAdaptersOf} from "../flags/loraOptions.js";
import {apiKey as apiKeyFromEnvironment} from "../openGenerator.js";
import {resolveModelFlags} from "../resolveModelPath.js";
import type {ResolvedModel} from "../../models/resolveModel.js";
import {startProgress} from "../ui/progress.js";
import {logLine, terminalPolicy} from "../ui/terminal.js";
import {portRefusedHint} from "../../platformHints.js";
import {checkExpertsOfFile, describeExperts} from "../../gguf/expertsUsed.js";

export type ServeOptions = ModelFlags & {
    host: string,
    port: number,
    parallel?: number,
    queueLimit: number,
    apiKey?: string,
    /** What /v1/models lists instead of the file's name (llama-server's --alias). */
    alias?: string,
    /** Milliseconds between writes of a stream (see server/core/pacedWriter.ts); 0 writes every token. */
    streamInterval: number,
    /** Origins of web pages allowed to call the API besides this machine's (repeatable; `*`: all). */
    cors?: string[],
    /** Seconds a client may take to send a whole request (headers and body). */
    bodyTimeout: number
};

/**
 * The most sequences decoded together when --parallel is not given, as llama-server's `-np auto`: a
 * batch of 4 tokens costs a GPU little more than 1, and on a CPU it reads the shared (attention)
 * weights once for 4 tokens and often shares experts, so 4 streams together run well above 1
 * stream's tok/s (see `npm run bench:serve`). Fewer are opened when 4 contexts of the size each
 * request gets do not fit in free memory: a request's context comes first.
 */
export const defaultParallel = 4;

/** Shutdown waits this long for streams to send their last chunk before closing sockets. */
const drainMs = 8000;

export async function runServe(options: ServeOptions) {
    // An empty key would let no client in (a Bearer header needs a token): surely not what was meant.
    if (options.apiKey != null && options.apiKey.trim() === "")
        throw new UsageError("--api-key is empty: give the key clients must send, or leave the flag out to serve without one.");
    const apiKey = options.apiKey ?? apiKeyFromEnvironment();
    const interrupt = interruptController();
    // SIGTERM (systemd, docker stop, kill) and Windows's Ctrl+Break are a Ctrl+C: stop accepting and drain.
    // Claimed, so that the quiet exit every command gets on them (bin/mixtral.js) leaves them to us.
    const onSigterm = () => process.emit("SIGINT");
    const drainSignals = ["SIGTERM", "SIGBREAK"] as const;
    const releases = drainSignals.map((signal) => claimSignal(signal));
    for (const signal of drainSignals) process.on(signal, onSigterm);
    try {
        // An impossible cache combination fails there too, before the plan, a download or the port.
        const resolved = await resolveModelFlags(options, interrupt.signal);
        if (options.verbose === true && resolved.reason != null) logLine(`plan: ${resolved.reason}`);
        // A bad --experts is a usage error before the port opens or the model loads.
        const experts = await checkExpertsOfFile(resolved.path, options.experts);
        const expertsOverridden = experts != null && experts.used !== experts.fileUsed;
        // Each request gets the context one conversation of `chat` would get (--context-size, else the
        // plan's, else the engine's default), as Ollama's num_ctx is per request; then as many
        // sequences as fit (at most 4), unless --parallel says how many.
        const perSequence = options.contextSize ?? resolved.contextSize;
        const parallel = options.parallel ?? {upTo: defaultParallel};

        const modelId = path.basename(resolved.path).replace(/\.gguf$/i, "");
        const cors = options.cors ?? [];
        // A request that finds the model file changed stops the server (see ServerCore.model).
        const fileChanged = new AbortController();
        const api = createApiServer({
            modelId, alias: options.alias, apiKey, log: logLine, streamIntervalMs: options.streamInterval, corsOrigins: cors,
            bodyTimeoutMs: Math.round(options.bodyTimeout * 1000),
            onModelFileChanged: (message) => fileChanged.abort(message)
        });
        // Listen before loading: /health answers 503 until the model is ready.
        const address = await listen(api.server, options.host, options.port);
        const baseUrl = `http://${urlHost(options.host, address)}:${address.port}/v1`;
        let engine: ServingModel | undefined;
        try {
            // The file as it is before the load: a change during the load is seen at the first request.
            const modelFile = await fileIdentity(resolved.path);
            engine = await loadServingModel(resolved, options, parallel, perSequence, interrupt.signal);
            api.setEngine(engine, modelFile);
            await announceServer({
                pid: process.pid, baseUrl, modelPath: await realpath(resolved.path), modelId: options.alias ?? modelId,
                apiKeyRequired: apiKey != null, startedAt: new Date().toISOString(), ...thisProcessIdentity(),
                modelFile,
                adapters: await Promise.all(adaptersOf(resolved, options).map((adapter) => realpath(adapter.path))),
                ...(expertsOverridden ? {expertsUsed: experts.used} : {})
            }).catch((error: unknown) => logLine(`note: other mixtral commands will not find this server (${(error as Error).message})`));
            if (!isLoopback(options.host) && apiKey == null)
                logLine(terminalPolicy().stderrColors.yellow(`warning: listening on ${options.host} without an API key: anyone who can reach this port can use the model. Pass --api-key or set MIXTRAL_API_KEY.`));
            if (cors.includes("*") && apiKey == null)
                logLine(terminalPolicy().stderrColors.yellow("warning: --cors '*' without an API key: any web page open in a browser on this machine can use the model. Pass --api-key or set MIXTRAL_API_KEY, or name the origins that may."));
            if (engine.chatFormatNote != null) logLine(`note: ${engine.chatFormatNote}.`);
            if (options.verbose === true) logLine(describeKvCache(engine));
            logLine(`Serving ${modelId}${options.alias != null ? ` as ${options.alias}` : ""} at ${baseUrl} (${engine.parallel} sequences × ${engine.contextSize} tokens, ${engine.backend}, ${engine.threads} threads${expertsOverridden ? `, ${describeExperts(experts)}` : ""}${apiKey != null ? ", API key required" : ""}). Ctrl+C stops.`);
            await new Promise<void>((resolve) => {
                for (const signal of [interrupt.signal, fileChanged.signal]) signal.addEventListener("abort", () => resolve(), {once: true});
            });
            logLine(fileChanged.signal.aborted ? "Stopping: the model file changed on disk; no new requests; ending running answers."
                : "Stopping: no new requests; ending running answers.");
        } finally {
            api.stopAccepting();
            await withdrawServer(process.pid).catch(() => {});
            // Running answers end at once as errors (a stream's error event, else 503: they are not
            // complete), queued requests get 503; the engine then waits for the decode in flight (a
            // long prompt batch on a slow CPU can take seconds), which must not hold the exit past
            // the drain time.
            const deadline = Date.now() + drainMs;
            const engineClosed = engine?.close().catch(() => {});
            await closeWithin(api.server, drainMs);
            await Promise.race([engineClosed, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref())]);
        }
        if (fileChanged.signal.aborted)
            throw new ModelFileError(`${String(fileChanged.signal.reason)}: the server stopped rather than read a damaged or different model.`, {
                hint: "Start `mixtral serve` again to load the file as it is now (replace a served model file only while no server uses it)."
            });
    } finally {
        for (const signal of drainSignals) process.off(signal, onSigterm);
        for (const release of releases) release();
        interrupt.dispose();
    }
}

async function loadServingModel(resolved: ResolvedModel, options: ServeOptions, parallel: number | {upTo: number}, perSequence: number | undefined, signal: AbortSignal): Promise<ServingModel> {
    const progress = startProgress("Loading model", {plainWhenPiped: false});
    try {
        return await openServingModel({
            path: resolved.path,
            gpu: options.gpu,
            gpuLayers: options.gpuLayers ?? resolved.gpuLayers,
            kvCache: kvCacheFrom(options, resolved.kvCache),
            use: {kind: "serve"},
            threads: options.threads,
            // a catalog fine-tune (aurora) brings its adapter; --lora adds to it
            lora: adaptersOf(resolved, options),
            expertsUsed: options.experts,
            parallel,
            contextSizePerSequence: perSequence,
            queueLimit: options.queueLimit,
            onLoadProgress: (fraction) => progress.update(fraction),
            onLog: options.verbose === true ? (message) => logLine(message) : undefined,
            onThreadSwitch: options.verbose === true ? (change) => logLine(describeThreadSwitch(change)) : undefined,
            signal
        });
    } finally {
        progress.stop();
    }
}

function listen(server: import("node:http").Server, host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
        server.once("error", (error: NodeJS.ErrnoException) => {
            if (error.code === "EADDRINUSE")
                reject(new MixtralError(`Port ${port} on ${host} is already in use.`, {hint: "Pick another with --port (0 picks a free one).", cause: error}));
            else if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND")
                reject(new UsageError(`Cannot listen on ${host}: no such address on this machine.`, {hint: "Use --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).", cause: error}));
            else if (error.code === "EACCES") {
                const {reason, hint} = portRefusedHint();
                reject(new MixtralError(`Port ${port} ${reason}.`, {hint, cause: error}));
            }
            else reject(new MixtralError(`Cannot listen on ${host}:${port}: ${error.message}`, {cause: error}));
        });
        server.listen(port, host, () => resolve(server.address() as AddressInfo));
    });
}

/**
 * Waits for open connections to finish, then closes whatever is left. A keep-alive connection whose
 * answer ends now stays open, idle, until its client closes it: idle ones are closed as they appear.
 */
function closeWithin(server: import("node:http").Server, ms: number): Promise<void> {
    return new Promise((resolve) => {
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        const timer = setTimeout(() => {
            clearInterval(idle);
            server.closeAllConnections();
            resolve();
        }, ms);
        timer.unref();
        idle.unref();
        server.close(() => {
            clearTimeout(timer);
            clearInterval(idle);
            resolve();
        });
        server.closeIdleConnections();
    });
}

function isLoopback(host: string): boolean {
    return host === "localhost" || host === "::1" || /^127\./.test(host);
}

function urlHost(host: string, address: AddressInfo): string {
    // 0.0.0.0 / :: listen everywhere; a client on this machine reaches them at loopback.
    if (host === "0.0.0.0") return "127.0.0.1";
    if (host === "::") return "[::1]";
    return address.family === "IPv6" ? `[${address.address}]` : host;
}

/** A catalog fine-tune's adapter (aurora), then those of --lora / --lora-scaled. */
function adaptersOf(resolved: ResolvedModel, options: ServeOptions) {
    return [...resolved.lora ?? [], ...loraAdaptersOf(options)];
}
