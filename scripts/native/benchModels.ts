import {execFileSync} from "node:child_process";
import {join} from "node:path";

/** A Mixtral-shaped model (8 experts, 2 used) the benchmarks write with the project's writer. */
export type ModelShape = {key: string, label: string, file: string, dim: number, ff: number, layers: number, heads?: number, kvHeads?: number, vocab?: number};

export const benchModels: ModelShape[] = [
    // Mixtral 8x7B's real layer (32 heads, 8 KV heads, 14336-wide experts), one of them: 0.8 GB, ~15–25 ms a
    // token at 2 threads. A small vocabulary keeps the file and the output head to the layer's scale.
    {key: "4096w", label: "4096-wide 1-layer Q4_0", file: "mixtral-4096w-1l-q4_0.gguf", dim: 4096, ff: 14336, layers: 1, heads: 32, kvHeads: 8, vocab: 2048},
    // The two sizes issue 2 measured (GQA 8/2 heads, 32000 vocabulary).
    {key: "212m", label: "212M Q4_0", file: "mixtral-212m-q4_0.gguf", dim: 768, ff: 1024, layers: 8},
    {key: "847m", label: "847M Q4_0", file: "mixtral-847m-q4_0.gguf", dim: 1024, ff: 3072, layers: 10}
];

/** Writes the model to `path` (the project's writer keeps an identical existing file). */
export function writeBenchModel(root: string, path: string, shape: ModelShape) {
    const args = [
        join(root, "dist", "scripts", "writeModel.js"), "--out", path,
        "--dim", String(shape.dim), "--ff", String(shape.ff), "--layers", String(shape.layers), "--type", "Q4_0"
    ];
    if (shape.heads != null) args.push("--heads", String(shape.heads));
    if (shape.kvHeads != null) args.push("--kv-heads", String(shape.kvHeads));
    if (shape.vocab != null) args.push("--vocab", String(shape.vocab));
    execFileSync(process.execPath, args, {stdio: ["ignore", "ignore", "inherit"]});
}
