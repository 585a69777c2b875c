import {join} from "node:path";
import {projectRoot} from "./gguf/projectRoot.js";

/** What every benchmark script starts from: the repository, its git-ignored work folder, and progress on stderr. */
export const root = projectRoot();
export const benchDir = join(root, ".bench");
export const log = (line: string) => process.stderr.write(`${line}\n`);
