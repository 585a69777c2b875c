import fs from "node:fs/promises";
import path from "node:path";

/**
 * Free bytes for unprivileged users on the file system holding `dir` (or its closest existing parent).
 * MIXTRAL_FREE_BYTES stands in for the measurement (tests: a full disk without filling one).
 */
export async function freeBytes(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    const override = env.MIXTRAL_FREE_BYTES;
    if (override != null && override !== "" && Number.isFinite(Number(override))) return Number(override);
    let folder = path.resolve(dir);
    for (;;) {
        try {
            const stat = await fs.statfs(folder);
            return stat.bavail * stat.bsize;
        } catch (error) {
            const parent = path.dirname(folder);
            if ((error as NodeJS.ErrnoException).code !== "ENOENT" || parent === folder) throw error;
            folder = parent;
        }
    }
}
