import fs from "node:fs/promises";
import path from "node:path";
import {homeFolder} from "../userFolders.js";

/** A copy of a model file another tool already downloaded. */
export type ExistingCopy = {
    path: string,
    source: "Hugging Face cache" | "LM Studio" | "Ollama",
    bytes: number,
    /** The sha256 the folder layout claims (Hugging Face and Ollama name blobs by it); still verified before use. */
    claimedSha256?: string
};

function home(env: NodeJS.ProcessEnv, platform: NodeJS.Platform) {
    return homeFolder({env, platform});
}

function huggingFaceHubDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform) {
    if (env.HF_HUB_CACHE != null && env.HF_HUB_CACHE !== "") return env.HF_HUB_CACHE;
    if (env.HF_HOME != null && env.HF_HOME !== "") return path.join(env.HF_HOME, "hub");
    const cache = env.XDG_CACHE_HOME != null && env.XDG_CACHE_HOME !== "" ? env.XDG_CACHE_HOME : path.join(home(env, platform), ".cache");
    // huggingface_hub uses ~/.cache on every system, Windows and macOS included.
    return path.join(cache, "huggingface", "hub");
}

/**
 * Looks for `repo`/`file` where other tools keep models: the Hugging Face hub cache (snapshots link
 * to blobs named by sha256), LM Studio (`<owner>/<repo>/<file>`), and Ollama (blobs named
 * `sha256-<hex>`, so only findable when the sha256 is known). Nothing here is trusted: the caller
 * hashes a candidate before using it.
 */
export async function findExistingCopies(target: {repo?: string, file: string, sha256?: string}, env: NodeJS.ProcessEnv = process.env,
    platform: NodeJS.Platform = process.platform): Promise<ExistingCopy[]> {
    const found: ExistingCopy[] = [];
    const add = async (candidate: string, source: ExistingCopy["source"], claimed?: string) => {
        try {
            const real = await fs.realpath(candidate);
            const stat = await fs.stat(real);
            if (!stat.isFile() || found.some((copy) => copy.path === real)) return;
            const blobName = path.basename(real);
            found.push({path: real, source, bytes: stat.size, claimedSha256: claimed ?? (/^[0-9a-f]{64}$/.test(blobName) ? blobName : undefined)});
        } catch {
            // Not there, or unreadable: not a candidate.
        }
    };
    if (target.repo != null) {
        const [owner = "", name = ""] = target.repo.split("/");
        const snapshots = path.join(huggingFaceHubDir(env, platform), `models--${owner}--${name}`, "snapshots");
        for (const revision of await readdirSafe(snapshots)) await add(path.join(snapshots, revision, target.file), "Hugging Face cache");
        for (const root of [path.join(home(env, platform), ".lmstudio", "models"), path.join(home(env, platform), ".cache", "lm-studio", "models")])
            await add(path.join(root, owner, name, target.file), "LM Studio");
    }
    if (target.sha256 != null)
        for (const ollama of ollamaModelFolders(env, platform)) await add(path.join(ollama, "blobs", `sha256-${target.sha256}`), "Ollama", target.sha256);
    return found;
}

/**
 * Where Ollama keeps models: $OLLAMA_MODELS, the user's ~/.ollama/models (macOS, Windows, and Linux
 * when run by hand), and on Linux the folders of its system service — the install script's ollama
 * user has its home in /usr/share/ollama; some packages use /var/lib/ollama.
 */
export function ollamaModelFolders(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
    if (env.OLLAMA_MODELS != null && env.OLLAMA_MODELS !== "") return [env.OLLAMA_MODELS];
    const folders = [path.join(home(env, platform), ".ollama", "models")];
    if (platform === "linux") folders.push("/usr/share/ollama/.ollama/models", "/var/lib/ollama/.ollama/models", "/var/lib/ollama/models");
    return folders;
}

async function readdirSafe(dir: string): Promise<string[]> {
    try {
        return await fs.readdir(dir);
    } catch {
        return [];
    }
}
