import {existsSync} from "node:fs";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";

/** The repository root: the nearest folder above this module with a package.json (works from scripts/ and dist/scripts/). */
export function projectRoot(): string {
    let folder = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(folder, "package.json"))) {
        const parent = dirname(folder);
        if (parent === folder)
            throw new Error("no package.json above " + fileURLToPath(import.meta.url));
        folder = parent;
    }
    return folder;
}
