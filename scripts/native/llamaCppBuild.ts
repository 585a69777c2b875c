/**
 * Builds llama.cpp's own tools from the exact source node-llama-cpp ships (its git bundle), so the
 * comparison is against the same llama.cpp revision our binding runs. Everything lives in .bench/
 * (git-ignored) and is reused: a clone or a build that exists is not redone.
 */
import {execFileSync} from "node:child_process";
import {existsSync} from "node:fs";
import {join} from "node:path";

export type LlamaCppTools = {sourceDir: string, binDir: string, tool(name: string): string};

export function ensureLlamaCppTools(benchDir: string, targets: string[], log: (line: string) => void): LlamaCppTools {
    const bundle = join(benchDir, "..", "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
    const sourceDir = join(benchDir, "llama.cpp");
    const buildDir = join(sourceDir, "build");
    const binDir = join(buildDir, "bin");
    if (!existsSync(join(sourceDir, "CMakeLists.txt"))) {
        if (!existsSync(bundle)) throw new Error(`node-llama-cpp's llama.cpp source bundle is missing: ${bundle}`);
        log(`cloning ${bundle} into ${sourceDir}`);
        execFileSync("git", ["clone", "--quiet", bundle, sourceDir], {stdio: "inherit"});
    }
    const missing = targets.filter((target) => !existsSync(join(binDir, target)));
    if (missing.length > 0) {
        // llama-server (bench:serve) is configured in only when asked for: it adds minutes to the build.
        const withServer = missing.includes("llama-server");
        if (!existsSync(join(buildDir, "CMakeCache.txt")) || withServer) {
            log(`configuring llama.cpp (Release, CPU, native${withServer ? ", with llama-server" : ""})`);
            execFileSync("cmake", [
                "-S", sourceDir, "-B", buildDir, "-DCMAKE_BUILD_TYPE=Release",
                "-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF", `-DLLAMA_BUILD_SERVER=${withServer ? "ON" : "OFF"}`
            ], {stdio: ["ignore", "ignore", "inherit"]});
        }
        // Only the tools we run: the full tree takes far longer on two cores.
        log(`building ${missing.join(", ")} (a few minutes on 2 cores)`);
        execFileSync("cmake", ["--build", buildDir, "--config", "Release", "-j2", "--target", ...missing], {stdio: ["ignore", "ignore", "inherit"]});
    }
    return {sourceDir, binDir, tool: (name) => join(binDir, name)};
}
