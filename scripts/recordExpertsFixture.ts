/**
 * Records, once, what llama.cpp generates greedily with each expert count on a test model, for
 * test/e2e/experts.test.ts (which never runs llama.cpp itself):
 *   npm run build && node dist/scripts/writeTestModels.js && node dist/scripts/recordExpertsFixture.js
 * It needs .bench/llama.cpp/build/bin/llama-completion, built from the llama.cpp node-llama-cpp
 * 3.21.1 ships; it does not build it. Writes test/fixtures/llama-completion/experts.json.
 */
import {spawnSync} from "node:child_process";
import {existsSync, mkdirSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {runLlamaCompletion} from "./experts/runLlamaCompletion.js";
import {benchDir, log, root} from "./benchSetup.js";

const binary = join(benchDir, "llama.cpp", "build", "bin", "llama-completion");
if (!existsSync(binary)) {
    log(`${binary} is missing: build llama.cpp's llama-completion there first (this script does not build it).`);
    process.exit(1);
}
const model = join("test", ".models", "tiny-q8_0.gguf");
const prompt = "Once upon a time";
const tokens = 24;
const counts = [1, 2, 3, 8];
const completions = counts.map((experts) => {
    const {text} = runLlamaCompletion(binary, join(root, model), prompt, {experts, tokens, threads: 1});
    log(`--experts ${experts}: ${JSON.stringify(text)}`);
    return {experts, text};
});
const distinct = new Set(completions.map((completion) => completion.text)).size;
if (distinct !== counts.length) log(`warning: only ${distinct} distinct texts for ${counts.length} expert counts`);

// "version: 0.4.0-dev (build 1, commit 80fb11a)", on stderr.
const versionRun = spawnSync(binary, ["--version"], {encoding: "utf8"});
const version = /build (\d+), commit (\w+)/.exec(`${versionRun.stdout}${versionRun.stderr}`);
const fixture = {
    recordedWith: `llama-completion built from node-llama-cpp 3.21.1's bundled llama.cpp (build b${version?.[1] ?? "?"}-${version?.[2] ?? "?"}), ` +
        `run as: llama-completion -m ${model} ` +
        `-p ${JSON.stringify(prompt)} -n ${tokens} -no-cnv --no-display-prompt --temp 0 --repeat-penalty 1 --seed 1 -t 1 -c 512 ` +
        "--override-kv llama.expert_used_count=int:N (stdout without its closing two newlines)",
    model, prompt, tokens, completions
};
const directory = join(root, "test", "fixtures", "llama-completion");
mkdirSync(directory, {recursive: true});
writeFileSync(join(directory, "experts.json"), JSON.stringify(fixture, null, 1) + "\n");
log(`wrote ${join(directory, "experts.json")}`);
