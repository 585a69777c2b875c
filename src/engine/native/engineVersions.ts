import fs from "node:fs";
import {createRequire} from "node:module";
import path from "node:path";
import {readPrebuiltBuildInfo} from "../bench/benchBuildInfo.js";
import {probeBackends} from "./probeBackends.js";
import {type BackendsProbe} from "../../hardware/types.js";

export type EngineVersions = {
    /** undefined when the package cannot even be found. */
    nodeLlamaCpp?: string,
    /** The llama.cpp build the prebuilt CPU library was compiled from, as llama-bench prints it: "<commit> (<number>)". */
    llamaCpp?: string,
    probe: BackendsProbe
};

/**
 * What `--version` adds to mixtral's own version: node-llama-cpp's, the llama.cpp build it ships,
 * and which of its backends load here. Read without importing the binding where possible (the
 * versions come from files), so they show even when the binding cannot load.
 */
export async function engineVersions(): Promise<EngineVersions> {
    let root: string | undefined;
    let nodeLlamaCpp: string | undefined;
    try {
        root = path.join(path.dirname(createRequire(import.meta.url).resolve("node-llama-cpp")), "..");
        nodeLlamaCpp = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {version?: string}).version;
    } catch {
        root = undefined;
    }
    const build = root == null ? undefined : await readPrebuiltBuildInfo(root, "cpu");
    return {
        nodeLlamaCpp,
        llamaCpp: build == null ? undefined : `${build.commit} (${build.number})`,
        probe: await probeBackends()
    };
}
