import {rmSync} from "node:fs";
import fs from "node:fs/promises";
import {UsageError} from "../../errors.js";
import {createChunkScorer, type OpenModelOptions} from "../../engine/index.js";
import {openBaseLogits, partialPathOf, type BaseLogitsReader} from "../../quality/baseLogitsFile.js";
import {microBatch, sequencesFor} from "../../quality/chunkPlan.js";
import type {ChunkScorer} from "../../quality/chunkScorer.js";
import {comparisonPrinter, type ComparisonRow} from "../../quality/comparisonTable.js";
import {hellaswagHeader, hellaswagLine, measureHellaswag} from "../../quality/hellaswag.js";
import {measureKlDivergence, type KlDivergenceResult} from "../../quality/measureKlDivergence.js";
import {measurePerplexity, type ChunkProgress} from "../../quality/measurePerplexity.js";
import {finalEstimate, klDivergenceJson, kldSummaryText, kldTableHeader, kldTableLine, perplexityJson, runningPerplexity} from "../../quality/printers.js";
import {interruptController, stopGraceMs} from "../interrupt.js";
import {loadModelWithProgress} from "../loadModelWithProgress.js";
import {resolveModel} from "../resolveModelPath.js";
import {startProgress, type ProgressDisplay} from "../ui/progress.js";
import {writeJson, writeOut} from "../ui/stdout.js";
import {logLine, terminalPolicy} from "../ui/terminal.js";
import {decodeText, isUtf16} from "../../textFile.js";
import {formatDuration} from "../ui/formatDuration.js";

/** `mixtral perplexity`'s flags: llama-perplexity's names and defaults. */
export type PerplexityCommandOptions = {
    /** Every -m, split at commas: several print a comparison table. */
    model?: string[],
    file?: string,
    /** -c: 512 unless a base file says otherwise. */
    contextSize?: number,
    batchSize: number,
    chunks?: number,
    klDivergenceBase?: string,
    klDivergence?: boolean,
    hellaswag?: boolean,
    hellaswagTasks: number,
    json?: boolean,
    yes?: boolean,
    verbose?: boolean,
    // Engine flags, passed to the model load as they are (--experts: the routing of each token, checked against the file).
    experts?: number,
    threads?: number,
    gpu: OpenModelOptions["gpu"],
    gpuLayers?: OpenModelOptions["gpuLayers"]
};

/** llama-perplexity's default -c. */
const defaultContextSize = 512;

export async function runPerplexity(options: PerplexityCommandOptions) {
    const models = options.model ?? [];
    if (models.length === 0) throw new UsageError("No model given.", {hint: "Pass -m <file.gguf or catalog name>; several, comma-separated, print a comparison table."});
    if (options.klDivergence === true && options.klDivergenceBase == null)
        throw new UsageError("--kl-divergence needs the base model's logits: --kl-divergence-base <file>.", {
            hint: "Write that file first with the base model: mixtral perplexity -m <base> -f <text> --kl-divergence-base <file>."
        });
    if (options.hellaswag === true && (options.klDivergence === true || options.klDivergenceBase != null))
        throw new UsageError("--hellaswag and --kl-divergence are separate runs.", {hint: "Drop one of them."});
    const comparing = options.klDivergence === true || (models.length > 1 && options.klDivergenceBase != null);
    if (models.length > 1 && options.klDivergenceBase != null && options.klDivergence !== true)
        await checkReadable(options.klDivergenceBase);
    const text = comparing ? undefined : await readScoredText(options.file, () => logLine(`note: ${options.file} is UTF-16; scored as its text (llama-perplexity would read its bytes as UTF-8): compare figures from a UTF-8 copy.`));
    if (comparing && options.file != null) logLine("note: -f is not read with --kl-divergence: the tokens come from the base logits file.");

    // A second Ctrl+C (or a decode that does not stop in time) exits at once: a base file being written must not stay behind half.
    const writing = options.klDivergenceBase != null && !comparing && options.hellaswag !== true;
    const interrupt = interruptController({
        graceMs: stopGraceMs,
        beforeExit: writing ? () => rmSync(partialPathOf(options.klDivergenceBase!), {force: true}) : undefined
    });
    try {
        if (options.hellaswag === true) return await runHellaswag(models, text!, options, interrupt.signal);
        if (models.length > 1) return await compareModels(models, text, options, interrupt.signal);
        const [model] = models as [string];
        if (comparing) {
            const result = await withBase(options.klDivergenceBase!, (base) => withScorer(model, base.contextSize, options, interrupt.signal, (scorer) =>
                reporting("kl_divergence", (progress) => measureKlDivergence(scorer, base, klOptions(options, interrupt.signal, progress, true)))));
            if (options.json === true) writeJson(klDivergenceJson(result, model));
            else if (result.summary != null) writeOut(`\n${kldSummaryText(result.summary)}\n`);
            return;
        }
        const contextSize = options.contextSize ?? defaultContextSize;
        const result = await withScorer(model, contextSize, options, interrupt.signal, (scorer) =>
            reporting("perplexity", (progress) => measurePerplexity(scorer, text!, pplOptions(options, contextSize, interrupt.signal, progress, true))));
        if (options.json === true) writeJson(perplexityJson(result, model));
        else if (result.estimate != null) writeOut(`\n${finalEstimate(result.estimate)}\n`);
        else {
            // As llama-perplexity: no estimate, and the reason on stderr.
            writeOut("\n");
            logLine(finalEstimate(undefined));
        }
        if (result.baseFile != null) logLine(`wrote the base logits to ${result.baseFile}`);
    } finally {
        interrupt.dispose();
    }
}

/** --hellaswag: llama-perplexity's task lines on stdout, the last one the score; --json: the score alone. */
async function runHellaswag(models: string[], text: string, options: PerplexityCommandOptions, signal: AbortSignal) {
    if (models.length > 1) throw new UsageError("--hellaswag scores one model at a time.", {hint: "Run it once for each -m."});
    const [model] = models as [string];
    const contextSize = options.contextSize ?? defaultContextSize;
    // llama-perplexity's hellaswag context: at least 4 sequences, one for each ending of a task.
    const result = await withScorer(model, contextSize, options, signal, (scorer) => {
        if (options.json !== true) writeOut(`${hellaswagHeader}\n`);
        return measureHellaswag(scorer, text, {
            tasks: options.hellaswagTasks, contextSize, batchSize: Math.min(options.batchSize, 4 * contextSize), signal,
            onTask: (line) => { if (options.json !== true) writeOut(`${hellaswagLine(line)}\n`); }
        });
    }, 4);
    if (options.json === true)
        writeJson({model, hellaswag: {tasks: result.task, acc_norm: Number((100 * result.accuracy).toFixed(8)), ci95: [Number((100 * result.lower).toFixed(4)), Number((100 * result.upper).toFixed(4))]}, seconds: Number(result.seconds.toFixed(3))});
}

/** `-m a,b,c`: one row each, against the base file when one is given, in bench's layouts (or a JSON array). */
async function compareModels(models: string[], text: string | undefined, options: PerplexityCommandOptions, signal: AbortSignal) {
    const withBaseFile = options.klDivergenceBase != null;
    const format = process.stdout.isTTY === true ? "table" : "md";
    const policy = terminalPolicy();
    const printer = comparisonPrinter(format, {
        withBase: withBaseFile,
        footer: withBaseFile ? `base logits: ${options.klDivergenceBase}` : `text: ${options.file}`,
        paint: {dim: policy.colors.dim, bold: policy.colors.bold, bar: (value) => value}
    });
    const rows: object[] = [];
    if (options.json !== true) writeOut(printer.header());
    for (const model of models) {
        let row: ComparisonRow;
        if (withBaseFile) {
            const [result, modelBytes] = await withBase(options.klDivergenceBase!, (base) => withScorer(model, base.contextSize, options, signal, async (scorer, bytes) =>
                [await reporting("kl_divergence", (progress) => measureKlDivergence(scorer, base, klOptions(options, signal, progress, false))), bytes] as const));
            rows.push(klDivergenceJson(result, model));
            row = rowFromKl(model, modelBytes, result);
        } else {
            const contextSize = options.contextSize ?? defaultContextSize;
            const [result, modelBytes] = await withScorer(model, contextSize, options, signal, async (scorer, bytes) =>
                [await reporting("perplexity", (progress) => measurePerplexity(scorer, text!, pplOptions({...options, klDivergenceBase: undefined}, contextSize, signal, progress, false))), bytes] as const);
            rows.push(perplexityJson(result, model));
            row = {model, sizeBytes: modelBytes, ppl: result.estimate?.ppl ?? result.ppl, pplSd: result.estimate?.pplUncertainty, tokensPerSecond: result.tokensPerSecond};
        }
        if (options.json !== true) writeOut(printer.row(row));
    }
    if (options.json === true) writeJson(rows);
    else writeOut(printer.footer());
}

function rowFromKl(model: string, sizeBytes: number, result: KlDivergenceResult): ComparisonRow {
    const {summary, line} = result;
    return {
        model,
        sizeBytes,
        ppl: summary?.ppl[0] ?? line.ppl[0],
        pplSd: summary?.ppl[1] ?? line.ppl[1],
        pplDelta: summary?.pplDifference[0],
        kldMean: line.kld[0],
        sameTopPct: 100 * line.sameTop[0],
        tokensPerSecond: result.tokensPerSecond
    };
}

/** Resolves and loads the model with a context for `contextSize`-token chunks, n_batch/n_ctx sequences of them, and scores with it. */
async function withScorer<T>(model: string, contextSize: number, options: PerplexityCommandOptions, signal: AbortSignal, use: (scorer: ChunkScorer, modelBytes: number) => Promise<T>,
    sequences = sequencesFor(contextSize, options.batchSize)): Promise<T> {
    const resolved = await resolveModel(model, {yes: options.yes, signal});
    const opened = await loadModelWithProgress(resolved, {
        model, contextSize, threads: options.threads, gpu: options.gpu, gpuLayers: options.gpuLayers, experts: options.experts, verbose: options.verbose
    // The context's batch holds one of our decodes: a micro-batch of llama-perplexity's (see quality/chunkPlan.ts).
    }, signal, {sequences, batchSize: Math.min(options.batchSize, contextSize * sequences, microBatch)});
    let scorer: ChunkScorer | undefined;
    try {
        scorer = createChunkScorer(opened);
        return await use(scorer, opened.file.fileBytes);
    } finally {
        scorer?.dispose();
        await opened.dispose();
    }
}

async function withBase<T>(path: string, use: (base: BaseLogitsReader) => Promise<T>): Promise<T> {
    const base = await openBaseLogits(path);
    try {
        return await use(base);
    } finally {
        await base.close();
    }
}

async function checkReadable(path: string) {
    await (await openBaseLogits(path)).close();
}

/**
 * The text as llama-perplexity reads -f: the file's bytes as they are (an ifstream into a string),
 * one final newline dropped. A UTF-8 byte-order mark therefore stays and is tokenized, as there, so
 * the chunks and the figure match llama-perplexity's on the same file. UTF-16 (PowerShell 5.1's `>`)
 * is decoded instead: read as bytes it is no text, and llama-perplexity's figure for it measures
 * nothing; `onUtf16` lets the command say so. On Windows the ifstream is in text mode, so
 * llama-perplexity reads each CRLF as LF: so does this there.
 */
export async function readScoredText(file: string | undefined, onUtf16: () => void = () => {}, platform: NodeJS.Platform = process.platform): Promise<string> {
    if (file == null) throw new UsageError("No text given.", {hint: "Pass -f <text file>, e.g. Wikitext-2's wiki.test.raw (see docs/commands/perplexity.md)."});
    let bytes: Buffer;
    try {
        bytes = await fs.readFile(file);
    } catch (error) {
        throw new UsageError(`Cannot read ${file}: ${(error as Error).message}.`, {hint: "Pass -f with the path of a text file.", cause: error});
    }
    if (isUtf16(bytes)) onUtf16();
    const decoded = isUtf16(bytes) ? decodeText(bytes) : bytes.toString("utf8");
    const text = platform === "win32" ? decoded.replaceAll("\r\n", "\n") : decoded;
    return text.endsWith("\n") ? text.slice(0, -1) : text;
}

/**
 * Progress on stderr: llama-perplexity's "seconds per pass - ETA" line after the first chunks, then a
 * bar with the ETA while stdout is not the terminal (there, the running values are the progress).
 */
type Reporter = {update(progress: ChunkProgress): void};

async function reporting<T>(label: string, run: (progress: Reporter) => Promise<T>): Promise<T> {
    let bar: ProgressDisplay | undefined;
    let announced = false;
    const reporter: Reporter = {
        update({chunk, chunkCount, elapsedMs}) {
            const perChunk = elapsedMs / chunk;
            const eta = formatDuration(perChunk * (chunkCount - chunk) / 1000);
            if (!announced) {
                announced = true;
                logLine(`${label}: ${(perChunk / 1000).toFixed(2)} seconds per chunk - ETA ${eta}`);
                if (process.stdout.isTTY !== true) bar = startProgress(label);
            }
            bar?.update(chunk / chunkCount, `chunk ${chunk}/${chunkCount}, ETA ${eta}`);
        }
    };
    try {
        return await run(reporter);
    } finally {
        bar?.stop();
    }
}

function pplOptions(options: PerplexityCommandOptions, contextSize: number, signal: AbortSignal, progress: Reporter, print: boolean): Parameters<typeof measurePerplexity>[2] {
    const show = print && options.json !== true;
    return {
        contextSize, batchSize: options.batchSize, chunks: options.chunks, writeBase: options.klDivergenceBase, signal,
        onPlan: (plan, tokens) => logLine(`perplexity: ${tokens} tokens; calculating perplexity over ${plan.chunkCount} chunks, n_ctx=${plan.contextSize}, batch_size=${plan.batchSize}, n_seq=${plan.sequences}`),
        onChunk: (event) => {
            progress.update(event);
            if (show) writeOut(runningPerplexity(event.chunk, event.ppl));
        }
    };
}

function klOptions(options: PerplexityCommandOptions, signal: AbortSignal, progress: Reporter, print: boolean): Parameters<typeof measureKlDivergence>[2] {
    const show = print && options.json !== true;
    return {
        contextSize: options.contextSize, batchSize: options.batchSize, chunks: options.chunks, signal,
        onPlan: (plan) => {
            logLine(`kl_divergence: computing over ${plan.chunkCount} chunks, n_ctx=${plan.contextSize}, batch_size=${plan.batchSize}, n_seq=${plan.sequences}`);
            if (show) writeOut(`${kldTableHeader}\n`);
        },
        onChunk: (event) => {
            progress.update(event);
            if (show) writeOut(`${kldTableLine(event.line)}\n`);
        }
    };
}
