import fs, {type FileHandle} from "node:fs/promises";
import {MixtralError, UsageError} from "../errors.js";
import {rowLength} from "./positionMath.js";

/**
 * llama-perplexity's base-logits file (`--kl-divergence-base`), byte for byte, so that a file written
 * by either tool is read by the other: "_logits_", int32 n_ctx, int32 n_vocab, int32 n_chunk, the
 * n_chunk·n_ctx int32 tokens evaluated (as tokenized, before BOS replaces each chunk's first), then per
 * chunk n_ctx−1−n_ctx/2 rows of rowLength(n_vocab) uint16 (see positionMath.ts), little-endian as
 * every machine llama.cpp runs on writes them.
 */
const magic = "_logits_";
const headerBytes = magic.length + 3 * 4;

export type BaseLogitsShape = {contextSize: number, vocabularySize: number, chunkCount: number};

export function rowsPerChunk(contextSize: number): number {
    return contextSize - 1 - Math.floor(contextSize / 2);
}

/** The bytes a complete file of this shape has. */
export function baseLogitsFileBytes({contextSize, vocabularySize, chunkCount}: BaseLogitsShape): number {
    return headerBytes + chunkCount * contextSize * 4 + chunkCount * rowsPerChunk(contextSize) * rowLength(vocabularySize) * 2;
}

/** Where a base file is written until it is complete. */
export function partialPathOf(path: string): string {
    return `${path}.partial`;
}

/** A base file that cannot be used as it is: damaged, cut short, or of another model or context. */
export class BaseLogitsFileError extends MixtralError {}

/**
 * Writes a base file under a temporary name and gives it its name only when complete: an interrupted
 * or failed run leaves no half file where the next run would read it.
 */
export class BaseLogitsWriter {
    private constructor(private readonly path: string, private readonly partialPath: string, private readonly file: FileHandle) {}

    static async create(path: string, shape: BaseLogitsShape, tokens: ArrayLike<number>): Promise<BaseLogitsWriter> {
        const partialPath = partialPathOf(path);
        let file: FileHandle;
        try {
            file = await fs.open(partialPath, "w");
        } catch (error) {
            throw new UsageError(`Cannot write the base logits file ${path}: ${(error as Error).message}.`, {hint: "Choose a path in a folder you can write to.", cause: error});
        }
        const writer = new BaseLogitsWriter(path, partialPath, file);
        const header = Buffer.alloc(headerBytes + shape.chunkCount * shape.contextSize * 4);
        header.write(magic, 0, "latin1");
        header.writeInt32LE(shape.contextSize, 8);
        header.writeInt32LE(shape.vocabularySize, 12);
        header.writeInt32LE(shape.chunkCount, 16);
        for (let i = 0; i < shape.chunkCount * shape.contextSize; i++) header.writeInt32LE(tokens[i]!, headerBytes + 4 * i);
        await writer.write(header);
        return writer;
    }

    /** One chunk's rows, in order. */
    async writeRows(rows: Uint16Array) {
        await this.write(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
    }

    private async write(bytes: Uint8Array) {
        try {
            await this.file.write(bytes);
        } catch (error) {
            await this.discard();
            throw new MixtralError(`Cannot write the base logits file ${this.path}: ${(error as Error).message}.`, {hint: "Check the free disk space.", cause: error});
        }
    }

    async commit() {
        await this.file.close();
        await fs.rename(this.partialPath, this.path);
    }

    async discard() {
        await this.file.close().catch(() => {});
        await fs.rm(this.partialPath, {force: true});
    }
}

export type BaseLogitsReader = BaseLogitsShape & {
    path: string,
    /** n_chunk·n_ctx tokens, as the base run tokenized its text. */
    tokens: Int32Array,
    /** Chunk `chunk`'s rows: rowsPerChunk(n_ctx) × rowLength(n_vocab) uint16. */
    readRows(chunk: number): Promise<Uint16Array>,
    close(): Promise<void>
};

/** Opens and checks a base file: its header, and its size against the header (a cut file fails here, before any work). */
export async function openBaseLogits(path: string): Promise<BaseLogitsReader> {
    let file: FileHandle;
    try {
        file = await fs.open(path, "r");
    } catch (error) {
        throw new UsageError(`Cannot read the base logits file ${path}: ${(error as Error).message}.`, {
            hint: "Write it first with the base model: mixtral perplexity -m <base> -f <text> --kl-divergence-base <file> (without --kl-divergence).",
            cause: error
        });
    }
    try {
        const size = (await file.stat()).size;
        const header = Buffer.alloc(headerBytes);
        const {bytesRead} = await file.read(header, 0, headerBytes, 0);
        if (bytesRead < headerBytes || header.toString("latin1", 0, 8) !== magic)
            throw new BaseLogitsFileError(`${path} is not a base logits file (llama-perplexity's --kl-divergence-base format).`, {
                hint: "Give the file written by --kl-divergence-base with the base model."
            });
        const shape = {contextSize: header.readInt32LE(8), vocabularySize: header.readInt32LE(12), chunkCount: header.readInt32LE(16)};
        if (shape.contextSize < 4 || shape.vocabularySize < 1 || shape.chunkCount < 1)
            throw new BaseLogitsFileError(`${path} has an impossible header (n_ctx ${shape.contextSize}, n_vocab ${shape.vocabularySize}, ${shape.chunkCount} chunks).`, {
                hint: "The file is damaged: write it again with --kl-divergence-base."
            });
        const expected = baseLogitsFileBytes(shape);
        if (size < expected)
            throw new BaseLogitsFileError(`${path} is cut short: ${size} bytes of the ${expected} its header announces.`, {
                hint: "The run that wrote it did not finish, or the copy is incomplete: write it again with --kl-divergence-base."
            });
        const tokenBytes = Buffer.alloc(shape.chunkCount * shape.contextSize * 4);
        await file.read(tokenBytes, 0, tokenBytes.length, headerBytes);
        const tokens = new Int32Array(shape.chunkCount * shape.contextSize);
        for (let i = 0; i < tokens.length; i++) tokens[i] = tokenBytes.readInt32LE(4 * i);
        const rowsBytes = rowsPerChunk(shape.contextSize) * rowLength(shape.vocabularySize) * 2;
        const rowsStart = headerBytes + tokenBytes.length;
        return {
            ...shape,
            path,
            tokens,
            async readRows(chunk) {
                const rows = new Uint16Array(rowsBytes / 2);
                await file.read(new Uint8Array(rows.buffer), 0, rowsBytes, rowsStart + chunk * rowsBytes);
                return rows;
            },
            close: () => file.close()
        };
    } catch (error) {
        await file.close();
        throw error;
    }
}

/** The base file must come from a model of the same vocabulary; its context is the run's (-c may only repeat it). */
export function checkBaseMatches(base: BaseLogitsShape & {path: string}, vocabularySize: number, contextSize: number | undefined) {
    if (base.vocabularySize !== vocabularySize)
        throw new UsageError(`${base.path} holds logits over ${base.vocabularySize} tokens, but this model's vocabulary has ${vocabularySize}.`, {
            hint: "KL divergence compares quantizations of one model: write the base file with the same model family."
        });
    if (contextSize != null && contextSize !== base.contextSize)
        throw new UsageError(`${base.path} was computed with a context of ${base.contextSize}, not ${contextSize}.`, {
            hint: `Drop -c (the file's context is used) or pass -c ${base.contextSize}.`
        });
}
