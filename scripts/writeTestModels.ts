/**
 * `npm test`'s pretest step: writes the tiny test models into test/.models/, skipping any that are
 * already there with the same options (see scripts/gguf/testModels.ts).
 */
import {relative} from "node:path";
import {ensureTestModels} from "./gguf/testModels.js";

const started = performance.now();
const results = await ensureTestModels();
for (const {path, written, fileBytes} of Object.values(results))
    console.log(`${written ? "wrote" : "up to date"}  ${relative(process.cwd(), path)}  (${(fileBytes / 1024 / 1024).toFixed(2)} MiB)`);
console.log(`test models ready in ${((performance.now() - started) / 1000).toFixed(2)}s`);
