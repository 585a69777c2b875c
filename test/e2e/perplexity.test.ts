import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {repoRoot, runCli, tinyModel} from "./helpers/runCli.js";

/**
 * `mixtral perplexity` against llama.cpp's own llama-perplexity, recorded once on the test models
 * (scripts/recordPerplexityFixtures.ts): the same text, context and files give the same figures
 * within 0.5 %, and the base-logits files cross between the two tools in both directions.
 */
const fixtures = path.join(repoRoot, "test", "fixtures", "perplexity");
const fixture = (name: string) => path.join(fixtures, name);
const recorded = (name: string) => fs.readFile(fixture(name), "utf8");
const text = fixture("text.txt");
const theirBase = fixture("their-base.kld");
const ourBase = fixture("our-base.kld");

function finalEstimate(output: string): {ppl: number, sd: number} {
    const match = /Final estimate: PPL = ([\d.]+) \+\/- ([\d.]+)/.exec(output);
    if (match == null) throw new Error(`no final estimate in:\n${output}`);
    return {ppl: Number(match[1]), sd: Number(match[2])};
}

function runningValues(output: string): number[] {
    return [...output.matchAll(/\[(\d+)\]([\d.]+),/g)].map((match) => Number(match[2]));
}

/** The closing blocks of a KL-divergence run, as "label" → [value, ±] (ours and llama-perplexity's print the same lines). */
function kldBlocks(output: string): Map<string, number[]> {
    const blocks = new Map<string, number[]>();
    for (const line of output.split("\n")) {
        const match = /^([A-Za-z0-9 .%()/Δ,-]+?)\s*:\s*(-?[\d.]+)%?(?: ± +(-?[\d.]+))?/.exec(line);
        if (match != null) blocks.set(match[1]!.trim(), match.slice(2).filter((value) => value != null).map(Number));
    }
    return blocks;
}

function expectClose(ours: number, theirs: number, relative = 0.005, absolute = 0) {
    expect(Math.abs(ours - theirs), `ours ${ours}, llama-perplexity ${theirs}`).toBeLessThanOrEqual(Math.max(relative * Math.abs(theirs), absolute));
}

const threads = ["-t", "1"];

describe("mixtral perplexity gives llama-perplexity's figures", () => {
    it("equals llama-perplexity's final PPL and running values on the same text and context", async () => {
        const theirs = await recorded("llama-perplexity-ppl.txt");
        const result = await runCli(["perplexity", "-m", tinyModel(), "-f", text, "-c", "128", ...threads]);
        expect(result.code, result.stderr).toBe(0);
        const ours = finalEstimate(result.stdout);
        expectClose(ours.ppl, finalEstimate(theirs).ppl);
        expectClose(ours.sd, finalEstimate(theirs).sd, 0.01);
        const theirRunning = runningValues(theirs);
        expect(runningValues(result.stdout)).toHaveLength(theirRunning.length);
        runningValues(result.stdout).forEach((value, index) => expectClose(value, theirRunning[index]!));
        // Progress and the plan go to stderr; stdout holds only llama-perplexity's result lines.
        expect(result.stdout).toMatch(/^(\[\d+\][\d.]+,)+\nFinal estimate: PPL = [\d.]+ \+\/- [\d.]+\n$/);
        expect(result.stderr).toMatch(/seconds per chunk - ETA/);
    });

    it("gives the same figure with -b below -c (each chunk over several decodes) and in --json", async () => {
        const theirs = finalEstimate(await recorded("llama-perplexity-ppl.txt"));
        const result = await runCli(["perplexity", "-m", tinyModel(), "-f", text, "-c", "128", "-b", "48", "--json", ...threads]);
        expect(result.code, result.stderr).toBe(0);
        const json = JSON.parse(result.stdout) as Record<string, number>;
        expectClose(json.ppl!, theirs.ppl);
        expect(json).toMatchObject({n_ctx: 128, n_batch: 48, n_seq: 1});
        expect(json.chunks).toBe(runningValues(await recorded("llama-perplexity-ppl.txt")).length);
        expect(json.tokens_scored).toBe(json.chunks! * 63);
        expect(json.tokens_per_second).toBeGreaterThan(0);
        expect(json.ppl_sd).toBeGreaterThan(0);
    });

    it("reads a base file llama-perplexity wrote and prints its KL-divergence statistics", async () => {
        const theirs = kldBlocks(await recorded("llama-perplexity-kld-their-base.txt"));
        const result = await runCli(["perplexity", "-m", tinyModel("tiny-q4_0.gguf"), "--kl-divergence-base", theirBase, "--kl-divergence", ...threads]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toContain("chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p");
        const ours = kldBlocks(result.stdout);
        for (const label of ["Mean PPL(Q)", "Mean PPL(base)", "Mean PPL(Q)/PPL(base)"])
            expectClose(ours.get(label)![0]!, theirs.get(label)![0]!);
        expectClose(ours.get("Mean    KLD")![0]!, theirs.get("Mean    KLD")![0]!, 0.005, 2e-5);
        expectClose(ours.get("Median  KLD")![0]!, theirs.get("Median  KLD")![0]!, 0.01, 2e-5);
        // One near-tie decided the other way moves it by 100/126 points: that much is float noise.
        expectClose(ours.get("Same top p")![0]!, theirs.get("Same top p")![0]!, 0, 1);
    });

    it("writes a base file llama-perplexity reads: the recorded run on it agrees with ours on it", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "mixtral-ppl-"));
        try {
            // The file we write today is the one llama-perplexity read when the fixture was recorded (up to float noise).
            const written = path.join(dir, "base.kld");
            const write = await runCli(["perplexity", "-m", tinyModel("tiny-f32.gguf"), "-f", text, "-c", "128", "--chunks", "2", "--kl-divergence-base", written, ...threads]);
            expect(write.code, write.stderr).toBe(0);
            const [now, then, llamas] = await Promise.all([fs.readFile(written), fs.readFile(ourBase), fs.readFile(theirBase)]);
            expect(now.length).toBe(then.length);
            expect(now.length).toBe(llamas.length);
            // Header and tokens: byte for byte what llama-perplexity writes for the same run.
            const headerAndTokens = 20 + 2 * 128 * 4;
            expect(now.subarray(0, headerAndTokens).equals(llamas.subarray(0, headerAndTokens))).toBe(true);
            expect(await fs.readdir(dir)).toEqual(["base.kld"]);
            // Rows: llama-perplexity's quantized log-probabilities, up to the float noise of two builds (a unit is 16/65535 nat).
            for (const reference of [then, llamas]) {
                const rows = (file: Buffer) => new Uint16Array(file.buffer.slice(file.byteOffset + headerAndTokens, file.byteOffset + file.length));
                const ours = rows(now);
                const theirs = rows(reference);
                let far = 0;
                for (let i = 0; i < ours.length; i++) if (i % 604 >= 4 && Math.abs(ours[i]! - theirs[i]!) > 8) far++;
                expect(far / ours.length).toBeLessThan(0.01);
            }

            const theirs = kldBlocks(await recorded("llama-perplexity-kld-our-base.txt"));
            const result = await runCli(["perplexity", "-m", tinyModel("tiny-q4_0.gguf"), "--kl-divergence-base", ourBase, "--kl-divergence", "--json", ...threads]);
            expect(result.code, result.stderr).toBe(0);
            const json = JSON.parse(result.stdout) as {ppl: number, ppl_base: number, kld: {mean: number, median: number, max: number}, same_top_pct: number};
            expectClose(json.ppl, theirs.get("Mean PPL(Q)")![0]!);
            expectClose(json.ppl_base, theirs.get("Mean PPL(base)")![0]!);
            expectClose(json.kld.mean, theirs.get("Mean    KLD")![0]!, 0.005, 2e-5);
            expectClose(json.kld.max, theirs.get("Maximum KLD")![0]!, 0.01, 2e-5);
            expectClose(json.same_top_pct, theirs.get("Same top p")![0]!, 0, 1);
        } finally {
            await fs.rm(dir, {recursive: true, force: true});
        }
    });
});

describe("mixtral perplexity -m a,b compares models in one run", () => {
    it("prints a markdown table (piped) of PPL, ΔPPL, mean KLD and same-top % against the base file, and an array with --json", async () => {
        const models = [tinyModel("tiny-q4_0.gguf"), tinyModel("tiny-q8_0.gguf")];
        const table = await runCli(["perplexity", "-m", models.join(","), "--kl-divergence-base", theirBase, ...threads]);
        expect(table.code, table.stderr).toBe(0);
        const lines = table.stdout.split("\n");
        expect(lines[0]).toMatch(/^\| model +\| +size \| +PPL \| ΔPPL vs base \| +mean KLD \| same top \| +tok\/s \|$/);
        expect(lines.filter((line) => /^\| .*tiny-q[48]_0\.gguf/.test(line))).toHaveLength(2);
        expect(table.stdout).toContain(`base logits: ${theirBase}`);

        const json = await runCli(["perplexity", "-m", models.join(","), "--kl-divergence-base", theirBase, "--json", ...threads]);
        expect(json.code, json.stderr).toBe(0);
        const rows = JSON.parse(json.stdout) as {model: string, kld: {mean: number}, same_top_pct: number}[];
        expect(rows.map((row) => row.model)).toEqual(models);
        // Q8_0 is nearer the f32 base than Q4_0.
        expect(rows[1]!.kld.mean).toBeLessThan(rows[0]!.kld.mean);
    });
});

describe("mixtral perplexity --hellaswag gives llama-perplexity's accuracy", () => {
    it("picks the same tasks in the same order and scores them alike on a small task file", async () => {
        const theirs = (await recorded("llama-perplexity-hellaswag.txt")).split("\n").filter((line) => /^\d+\t/.test(line));
        const result = await runCli(["perplexity", "-m", tinyModel(), "-f", fixture("hellaswag.txt"), "--hellaswag", "--hellaswag-tasks", "7", ...threads]);
        expect(result.code, result.stderr).toBe(0);
        const ours = result.stdout.split("\n").filter((line) => /^\d+\t/.test(line));
        expect(theirs).toHaveLength(7);
        expect(ours).toEqual(theirs);
        expect(result.stdout).toContain("task\tacc_norm\t95% confidence interval");
    });
});

describe("mixtral perplexity refuses bad input in one sentence", () => {
    let dir: string;
    beforeAll(async () => {
        dir = await fs.mkdtemp(path.join(os.tmpdir(), "mixtral-ppl-bad-"));
    });
    afterAll(async () => {
        await fs.rm(dir, {recursive: true, force: true});
    });
    const oneSentence = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith("error:"));

    it("a text shorter than two chunks: exit 2, and no base file left behind", async () => {
        const base = path.join(dir, "short.kld");
        const result = await runCli(["perplexity", "-m", tinyModel(), "-f", text, "-c", "512", "--kl-divergence-base", base, ...threads]);
        expect(result.code).toBe(2);
        expect(oneSentence(result.stderr)).toEqual([expect.stringMatching(/tokenizes to only \d+ tokens; perplexity with a context of 512 needs at least 1024\.$/)]);
        expect(result.stdout).toBe("");
        expect((await fs.readdir(dir)).filter((name) => name.startsWith("short"))).toEqual([]);
    });

    it("a base file of another vocabulary, another context, cut short, or not a base file at all", async () => {
        const source = await fs.readFile(theirBase);
        const otherVocabulary = Buffer.from(source);
        // A smaller vocabulary keeps the file long enough for its header: the model is what it does not match.
        otherVocabulary.writeInt32LE(300, 12);
        const cases: [string, Buffer, string[], number, RegExp][] = [
            ["vocab.kld", otherVocabulary, [], 2, /holds logits over 300 tokens, but this model's vocabulary has 600\.$/],
            ["context.kld", source, ["-c", "256"], 2, /was computed with a context of 128, not 256\.$/],
            ["cut.kld", source.subarray(0, source.length - 1000), [], 1, /is cut short: \d+ bytes of the \d+ its header announces\.$/],
            ["text.kld", Buffer.from("not logits at all\n"), [], 1, /is not a base logits file/]
        ];
        for (const [name, bytes, extra, code, message] of cases) {
            const file = path.join(dir, name);
            await fs.writeFile(file, bytes);
            const result = await runCli(["perplexity", "-m", tinyModel("tiny-q4_0.gguf"), "--kl-divergence-base", file, "--kl-divergence", ...extra, ...threads]);
            expect(result.code, name).toBe(code);
            expect(oneSentence(result.stderr), name).toEqual([expect.stringMatching(message)]);
            expect(result.stdout, name).toBe("");
        }
    });

    it("--kl-divergence without a base file, and no text", async () => {
        const noBase = await runCli(["perplexity", "-m", tinyModel(), "--kl-divergence"]);
        expect(noBase.code).toBe(2);
        expect(oneSentence(noBase.stderr)).toEqual([expect.stringMatching(/--kl-divergence needs the base model's logits/)]);
        const noText = await runCli(["perplexity", "-m", tinyModel()]);
        expect(noText.code).toBe(2);
        expect(oneSentence(noText.stderr)).toEqual(["error: No text given."]);
    });
});

describe("mixtral perplexity --experts", () => {
    it("scores with the experts asked for (a different figure at 1 than at the file's 2), and refuses a count the file lacks before loading", async () => {
        const scored = async (...extra: string[]) => {
            const result = await runCli(["perplexity", "-m", tinyModel(), "-f", text, "-c", "128", "--chunks", "2", "--json", ...threads, ...extra]);
            expect(result.code, result.stderr).toBe(0);
            return (JSON.parse(result.stdout) as {ppl: number}).ppl;
        };
        const [fileDefault, explicitTwo, one] = [await scored(), await scored("--experts", "2"), await scored("--experts", "1")];
        expect(explicitTwo).toBe(fileDefault);
        expect(one).not.toBe(fileDefault);
        const refused = await runCli(["perplexity", "-m", tinyModel(), "-f", text, "--experts", "9", ...threads]);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toMatch(/^error: --experts 9 is outside 1–8/m);
    });
});
