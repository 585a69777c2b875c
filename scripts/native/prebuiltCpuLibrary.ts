/**
 * Which ggml CPU library node-llama-cpp's prebuilt binding loads on this machine (it ships one per CPU
 * generation and picks the best at run time), read from a child process's memory map. llama-bench can
 * then run on those very kernels, which separates "Node costs time per token" from "the prebuilt
 * binary is compiled differently from a -march=native build".
 */
import {execFileSync} from "node:child_process";
import {mkdirSync, rmSync, symlinkSync} from "node:fs";
import {basename, dirname, join} from "node:path";

export type PrebuiltLibraries = {cpuLibrary: string, directory: string};

export function prebuiltCpuLibrary(root: string): PrebuiltLibraries | undefined {
    try {
        const cpuLibrary = execFileSync(process.execPath, [join(root, "dist", "scripts", "native", "printPrebuiltCpuLibrary.js")],
            {encoding: "utf8", stdio: ["ignore", "pipe", "ignore"]}).trim();
        return cpuLibrary === "" ? undefined : {cpuLibrary, directory: dirname(cpuLibrary)};
    } catch {
        return undefined;
    }
}

/**
 * The environment that makes our llama-bench build run on the prebuilt libraries: same llama.cpp
 * revision, so the ABI matches; the dynamic loader finds them under the sonames our build expects.
 */
export function prebuiltLibraryEnv(benchDir: string, libraries: PrebuiltLibraries, buildBinDir: string): NodeJS.ProcessEnv {
    const linkDir = join(benchDir, "prebuilt-libs");
    mkdirSync(linkDir, {recursive: true});
    const links: Record<string, string> = {
        "libllama.so.0": "libllama.v0.4.0.so",
        "libggml.so.0": "libggml.v0.4.0.so",
        "libggml-base.so.0": "libggml-base.so",
        "libggml-cpu.so.0": basename(libraries.cpuLibrary)
    };
    for (const [link, target] of Object.entries(links)) {
        rmSync(join(linkDir, link), {force: true});
        symlinkSync(join(libraries.directory, target), join(linkDir, link));
    }
    return {...process.env, LD_LIBRARY_PATH: `${linkDir}:${buildBinDir}`, GGML_BACKEND_PATH: libraries.cpuLibrary};
}
