/** The Mixtral-shaped models the speed benchmarks write into .bench/models (8 experts, 2 used). */
import {execFileSync} from "node:child_process";
import {mkdirSync} from "node:fs";
import {join} from "node:path";
import {benchDir, root} from "../benchSetup.js";

export type BenchModelShape = {key: string, label: string, file: string, dim: number, ff: number, layers: number, heads?: number, kvHeads?: number, vocab?: number};

export const benchModels: readonly BenchModelShape[] = [
    // Mixtral 8x7B's real layer (32 heads, 8 KV heads, 14336-wide experts), one of them: 0.8 GB, ~15–25 ms a
    // token at 2 threads. A small vocabulary keeps the file and the output head to the layer's scale.
    {key: "4096w", label: "4096-wide 1-layer Q4_0", file: "mixtral-4096w-1l-q4_0.gguf", dim: 4096, ff: 14336, layers: 1, heads: 32, kvHeads: 8, vocab: 2048},
    // The two sizes issue 2 measured (GQA 8/2 heads, 32000 vocabulary).
    {key: "212m", label: "212M Q4_0", file: "mixtral-212m-q4_0.gguf", dim: 768, ff: 1024, layers: 8},
    {key: "847m", label: "847M Q4_0", file: "mixtral-847m-q4_0.gguf", dim: 1024, ff: 3072, layers: 10}
];

/**
 * The bench models BENCH_MODELS names (`defaultKeys` when unset, comma-separated keys), in this
 * list's order, each written to .bench/models and given its path there; an unknown key is refused.
 */
export function benchModelsFromEnv(defaultKeys: string): (BenchModelShape & {path: string})[] {
    const wanted = (process.env.BENCH_MODELS ?? defaultKeys).split(",").map((key) => key.trim());
    const unknown = wanted.filter((key) => !benchModels.some((model) => model.key === key));
    if (unknown.length > 0) throw new Error(`BENCH_MODELS: no bench model ${unknown.map((key) => `"${key}"`).join(", ")} (${benchModels.map((model) => model.key).join(", ")})`);
    mkdirSync(join(benchDir, "models"), {recursive: true});
    return benchModels.filter((model) => wanted.includes(model.key)).map((model) => {
        const path = join(benchDir, "models", model.file);
        writeBenchModel(path, model);
        return {...model, path};
    });
}

/** Writes the model unless an identical file is there (the project's writer keeps it). */
export function writeBenchModel(path: string, shape: BenchModelShape) {
    const args = [
        join(root, "dist", "scripts", "writeModel.js"), "--out", path,
        "--dim", String(shape.dim), "--ff", String(shape.ff), "--layers", String(shape.layers), "--type", "Q4_0"
    ];
    if (shape.heads != null) args.push("--heads", String(shape.heads));
    if (shape.kvHeads != null) args.push("--kv-heads", String(shape.kvHeads));
    if (shape.vocab != null) args.push("--vocab", String(shape.vocab));
    execFileSync(process.execPath, args, {stdio: ["ignore", "ignore", "inherit"]});
}
