/**
 * Records, once, what llama.cpp's own llama-perplexity says on the test models, for the tests of
 * `mixtral perplexity` (test/e2e/perplexity.test.ts) to compare against: perplexity of a generated
 * text, a base-logits file it writes and the KL divergence it computes from it, and the KL divergence
 * it computes from a base file *we* write (both directions of the file format).
 * A developer tool: it needs llama-perplexity already built in .bench/llama.cpp/build/bin (it never
 * builds llama.cpp: `npm run bench:perplexity` does) and the test models (node dist/scripts/writeTestModels.js).
 *
 *   npm run build && node dist/scripts/recordPerplexityFixtures.js
 */
import {execFileSync} from "node:child_process";
import {createHash} from "node:crypto";
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {testModelPath} from "./gguf/testModels.js";
import {runLlamaPerplexity} from "./perplexity/runLlamaPerplexity.js";
import {sampleHellaswag, sampleText} from "./perplexity/sampleText.js";
import {benchDir, log, root} from "./benchSetup.js";

const fixtures = join(root, "test", "fixtures", "perplexity");
const tool = join(benchDir, "llama.cpp", "build", "bin", "llama-perplexity");
if (!existsSync(tool)) throw new Error(`${tool} is not built; run \`npm run bench:perplexity\` once (it builds it), or build the target llama-perplexity.`);
mkdirSync(fixtures, {recursive: true});

/** The fixtures' settings: small enough for a test to run in a second, big enough for llama-perplexity's closing statistics (≥ 100 tokens). */
const recordedSettings = {contextSize: 128, baseChunks: 2, threads: 2, words: 420, hellaswagTasks: 10, hellaswagPicked: 7} as const;
const {contextSize, baseChunks, threads, words, hellaswagTasks, hellaswagPicked} = recordedSettings;

const textPath = join(fixtures, "text.txt");
writeFileSync(textPath, sampleText(words));

/** Its stdout whole, and of its stderr the lines with figures (the final estimate is glued to the ETA line there). */
function llamaPerplexityWithLog(args: string[], complete: (output: string) => boolean): string {
    const {stdout, stderr} = runLlamaPerplexity(tool, [...args, "-t", String(threads)], benchDir, (out, err) => complete(out + err), log);
    const figures = stderr.split("\n")
        .map((line) => /(Final estimate: .*|perplexity: calculating .*|kl_divergence: computing .*|hellaswag_score : selecting .*)$/.exec(line)?.[1])
        .filter((line) => line != null);
    return `${stdout}\n${figures.join("\n")}\n`;
}

const hasFinalEstimate = (output: string) => output.includes("Final estimate: PPL = ");
const hasKldSummary = (output: string) => output.includes("Same top p: ");

const q8 = testModelPath("tiny-q8_0");
const f32 = testModelPath("tiny-f32");
const q4 = testModelPath("tiny-q4_0");

writeFileSync(join(fixtures, "llama-perplexity-ppl.txt"), llamaPerplexityWithLog(["-m", q8, "-f", textPath, "-c", String(contextSize)], hasFinalEstimate));

const theirBase = join(fixtures, "their-base.kld");
writeFileSync(join(fixtures, "llama-perplexity-base.txt"),
    llamaPerplexityWithLog(["-m", f32, "-f", textPath, "-c", String(contextSize), "--chunks", String(baseChunks), "--kl-divergence-base", theirBase], hasFinalEstimate));
writeFileSync(join(fixtures, "llama-perplexity-kld-their-base.txt"),
    llamaPerplexityWithLog(["-m", q4, "--kl-divergence-base", theirBase, "--kl-divergence"], hasKldSummary));

// Our base file, written by the built CLI exactly as a user would, then read by llama-perplexity.
const ourBase = join(fixtures, "our-base.kld");
rmSync(ourBase, {force: true});
execFileSync(process.execPath, [join(root, "bin", "mixtral.js"), "perplexity", "-m", f32, "-f", textPath, "-c", String(contextSize),
    "--chunks", String(baseChunks), "--kl-divergence-base", ourBase, "-t", String(threads)], {stdio: ["ignore", "ignore", "inherit"]});
writeFileSync(join(fixtures, "llama-perplexity-kld-our-base.txt"),
    llamaPerplexityWithLog(["-m", q4, "--kl-divergence-base", ourBase, "--kl-divergence"], hasKldSummary));

// Hellaswag on a small task file, fewer tasks than it holds: the random picks are llama-perplexity's too.
const hellaswagPath = join(fixtures, "hellaswag.txt");
writeFileSync(hellaswagPath, sampleHellaswag(hellaswagTasks));
writeFileSync(join(fixtures, "llama-perplexity-hellaswag.txt"),
    llamaPerplexityWithLog(["-m", q8, "-f", hellaswagPath, "--hellaswag", "--hellaswag-tasks", String(hellaswagPicked)],
        (output) => output.includes(`\n${hellaswagPicked}\t`)));

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const commit = execFileSync("git", ["-C", join(benchDir, "llama.cpp"), "rev-parse", "HEAD"], {encoding: "utf8"}).trim();
writeFileSync(join(fixtures, "recorded.json"), JSON.stringify({
    llamaCppCommit: commit,
    recordedAt: new Date().toISOString(),
    ...recordedSettings,
    models: {ppl: "tiny-q8_0", base: "tiny-f32", compared: "tiny-q4_0"},
    files: {theirBase: {sha256: sha256(theirBase)}, ourBase: {sha256: sha256(ourBase)}}
}, null, 2) + "\n");
log(`recorded into ${fixtures}`);
