import {writeOut} from "../ui/stdout.js";

/**
 * After commander printed mixtral's version (its first line stays the bare version, for scripts):
 * node-llama-cpp's version, the llama.cpp build, and the backends that load. Never fails: a binding
 * that cannot load is itself the answer.
 */
export async function printEngineVersions() {
    let lines: string[];
    try {
        const {engineVersions} = await import("../../engine/inspect.js");
        const {nodeLlamaCpp, llamaCpp, probe} = await engineVersions();
        lines = [
            `node-llama-cpp ${nodeLlamaCpp ?? "(not found)"}`,
            `llama.cpp build ${llamaCpp ?? "unknown (not readable from the prebuilt library)"}`,
            probe.nativeError != null
                ? `backends: none loads (${probe.nativeError})`
                : `backends: ${probe.backends.map(describeBackend).join("; ")}`
        ];
    } catch (error) {
        lines = [`node-llama-cpp: cannot be loaded (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`];
    }
    writeOut(lines.join("\n") + "\n");
}

function describeBackend(status: {backend: string, loaded: boolean, reason?: string}): string {
    return status.loaded ? `${status.backend} loads` : `${status.backend} does not (${status.reason ?? "no reason given"})`;
}
