import type {Backend} from "./types.js";

/**
 * What differs between Linux, macOS and Windows about llama.cpp's backends, in one place: which
 * prebuilt binary is the CPU path, and how to say what is missing for a GPU. Every function takes
 * the platform as a parameter, so tests on Linux ask as a Mac or a Windows PC would.
 */
export type PlatformOf = {platform: NodeJS.Platform, arch: string};

export const thisPlatform: PlatformOf = {platform: process.platform, arch: process.arch};

/**
 * The binary `--gpu cpu` loads. node-llama-cpp 3.21.1 ships only the Metal build for Apple Silicon
 * (@node-llama-cpp/mac-arm64-metal; no CPU-only package), and that build with 0 GPU layers is the
 * CPU path there — as llama.cpp's own `-ngl 0` is on a Mac. Everywhere else a CPU-only binary.
 */
export function cpuPathBinary({platform, arch}: PlatformOf = thisPlatform): "cpu" | "metal" {
    return platform === "darwin" && arch === "arm64" ? "metal" : "cpu";
}

/** Why node-llama-cpp did not even try a GPU backend here: what the user would install. */
export function backendNotDetectedReason(backend: Backend, {platform, arch}: PlatformOf = thisPlatform): string {
    if (backend === "cuda") {
        if (platform === "win32") return "no NVIDIA driver with the CUDA 12 runtime DLLs (cudart64_12.dll, cublas64_12.dll) found on PATH or under CUDA_PATH";
        if (platform === "darwin") return "CUDA does not run on macOS";
        return "no NVIDIA driver with the CUDA runtime libraries (libcudart, libcublas) found";
    }
    if (backend === "vulkan") return platform === "darwin" ? "no Vulkan driver (MoltenVK) found" : "no Vulkan loader or driver found";
    if (backend === "metal") return platform === "darwin" && arch !== "arm64" ? "Metal is used only on Apple Silicon; this is an Intel Mac" : "Metal needs macOS on Apple Silicon";
    return "not available";
}

/**
 * The doctor hint when an NVIDIA driver is present but the CUDA build did not load: the runtime
 * libraries are a separate install from the driver, named differently on each system. Without them
 * a Windows PC with an RTX 3090 silently runs on Vulkan, which is slower.
 */
export function cudaRuntimeHint(reason: string, {platform}: PlatformOf = thisPlatform): string {
    const start = `An NVIDIA driver is installed but the CUDA build of llama.cpp did not load (${reason}); `;
    if (platform === "win32")
        return start + "install the CUDA Toolkit 12 (it sets CUDA_PATH and puts cudart64_12.dll and cublas64_12.dll on PATH), open a new terminal, and check `nvidia-smi`; " +
            "until then llama.cpp runs on Vulkan if the driver provides it, more slowly.";
    return start + "install the CUDA 12 runtime (libcudart, libcublas) that matches the driver — e.g. the distribution's cuda-runtime-12 and libcublas-12 packages — " +
        "make sure the loader finds them (ldconfig or LD_LIBRARY_PATH), and check `nvidia-smi`.";
}

/** What a Linux system offers prebuilt binaries: glibc's loader where they expect it, or not. */
export type LinuxLibc = {musl: boolean, nixos: boolean};

/**
 * The hint when the native binding does not load at all: a missing optional package after an
 * install with another OS's lockfile, or a C library the prebuilt binaries were not built for.
 */
export function nativeBindingHint(libc: LinuxLibc, {platform, arch}: PlatformOf = thisPlatform): string {
    if (platform === "linux" && libc.musl) return "node-llama-cpp's prebuilt binaries are built for glibc: on Alpine or another musl system, run mixtral in a glibc image (e.g. node:20-bookworm); reinstalling will not help.";
    if (platform === "linux" && libc.nixos) return "NixOS has no /lib64 loader for prebuilt binaries: enable `programs.nix-ld.enable = true;` (or run under steam-run); reinstalling will not help.";
    return `Reinstall with \`npm ci\` on this machine so the prebuilt @node-llama-cpp/* package for ${platform}-${arch} is present (node_modules copied from another OS lacks it).`;
}

/**
 * The hint when a GPU build fails to load. `--gpu cpu` is suggested only where it is a different
 * binary: on Apple Silicon it is the same Metal build, so it would fail the same way.
 */
export function gpuLoadFailureHint(target: PlatformOf = thisPlatform): string {
    return cpuPathBinary(target) === "metal"
        ? "Reinstall with `npm ci` so @node-llama-cpp/mac-arm64-metal is present; `mixtral doctor` shows which backends load."
        : "Try `--gpu auto` or `--gpu cpu`; `mixtral doctor` shows which backends load.";
}

/**
 * Said once when a model loads: `--gpu auto` chose Vulkan on a machine with an NVIDIA driver, which
 * means CUDA's runtime is missing (the usual state of a Windows PC with an RTX card and only the
 * driver). Vulkan works, more slowly; without this line nobody would know.
 */
export function vulkanInsteadOfCudaNote(loaded: Backend, asked: string, nvidiaDriver: boolean, {platform}: PlatformOf = thisPlatform): string | undefined {
    if (loaded !== "vulkan" || asked !== "auto" || !nvidiaDriver) return undefined;
    const missing = platform === "win32" ? "the CUDA 12 runtime DLLs (the CUDA Toolkit 12)" : "the CUDA 12 runtime libraries (libcudart, libcublas)";
    return `note: running on Vulkan: the NVIDIA driver is installed but not ${missing}, which CUDA needs and is faster; \`mixtral doctor\` says more.`;
}
