import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {createRequire} from "node:module";
import type {Llama} from "node-llama-cpp";
import type {BenchSystemInfo} from "../../bench/types.js";
import {readPrebuiltBuildInfo} from "./benchBuildInfo.js";
import {backendOf} from "../native/loadLlama.js";

// The package does not export its package.json; it sits one folder above the resolved entry.
const nodeLlamaCppRoot = path.join(path.dirname(createRequire(import.meta.url).resolve("node-llama-cpp")), "..");
const nodeLlamaCppVersion = (JSON.parse(fs.readFileSync(path.join(nodeLlamaCppRoot, "package.json"), "utf8")) as {version: string}).version;

/** The GPUs the binding's backend sees; none on the CPU backend, or when the query fails. */
export async function gpuDeviceNamesOf(llama: Llama): Promise<string[]> {
    return backendOf(llama) === "cpu" ? [] : await llama.getGpuDeviceNames().catch(() => []);
}

/** llama-bench's get_backend(): the registered non-CPU backends, "CPU" when there are none. */
const backendNames = {cpu: "CPU", cuda: "CUDA", metal: "Metal", vulkan: "Vulkan"} as const;

/**
 * The build and machine stamp of every row: llama.cpp's commit and build number as compiled into
 * the prebuilt binary when they can be read (see benchBuildInfo.ts); otherwise the release tag
 * node-llama-cpp was built from stands in (for upstream tags, "b6000", that is the build number).
 */
export async function benchSystemInfo(llama: Llama): Promise<BenchSystemInfo> {
    const release = llama.llamaCppRelease.release;
    const backend = backendOf(llama);
    const compiled = llama.buildType === "prebuilt" ? await readPrebuiltBuildInfo(nodeLlamaCppRoot, backend) : undefined;
    const buildNumber = compiled?.number ?? Number(/^b(\d+)$/.exec(release)?.[1] ?? 0);
    const gpuNames = await gpuDeviceNamesOf(llama);
    return {
        buildCommit: compiled?.commit ?? release,
        buildNumber,
        // ggml's CPU device describes itself by the processor's brand string, as os.cpus() does.
        cpuInfo: os.cpus()[0]?.model.trim() ?? "",
        gpuInfo: gpuNames.join(", "),
        backends: backendNames[backend],
        nodeLlamaCppVersion
    };
}
