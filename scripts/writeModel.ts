/**
 * Writes a Mixtral-shaped GGUF of any size with random weights, for benchmarks:
 *   node dist/scripts/writeModel.js --out .bench/m.gguf --dim 1024 --ff 3584 --layers 4 --type Q4_0
 * Memory stays bounded whatever the size (tensors are streamed). An existing file written with the same
 * options is kept unless --force is given.
 */
import {parseArgs} from "node:util";
import {rm} from "node:fs/promises";
import {mixtralParameterCount, validateMixtralOptions, type MixtralModelOptions} from "./gguf/mixtralModel.js";
import {isTensorType, tensorTypes} from "../src/gguf/write/tensorTypes.js";
import {writeModelIfChanged} from "./gguf/writeModelIfChanged.js";

const usage = `usage: node dist/scripts/writeModel.js --out FILE.gguf [options]
  --dim N          embedding length            (default 1024)
  --ff N           expert feed-forward length  (default 3584)
  --layers N       blocks                      (default 4)
  --heads N        attention heads             (default 8)
  --kv-heads N     key/value heads             (default 2)
  --vocab N        vocabulary size             (default 32000)
  --context N      training context length     (default 32768)
  --type T         ${tensorTypes.join(" | ")}  (default Q4_0)
  --seed N         weight seed                 (default 1)
  --name S         general.name                (default derived from the shape)
  --no-template    omit the chat template
  --force          rewrite even if an identical file exists`;

const {values} = parseArgs({
    options: {
        out: {type: "string"},
        dim: {type: "string", default: "1024"},
        ff: {type: "string", default: "3584"},
        layers: {type: "string", default: "4"},
        heads: {type: "string", default: "8"},
        "kv-heads": {type: "string", default: "2"},
        vocab: {type: "string", default: "32000"},
        context: {type: "string", default: "32768"},
        type: {type: "string", default: "Q4_0"},
        seed: {type: "string", default: "1"},
        name: {type: "string"},
        "no-template": {type: "boolean", default: false},
        force: {type: "boolean", default: false},
        help: {type: "boolean", short: "h", default: false}
    }
});

if (values.help || values.out === undefined) {
    console.log(usage);
    process.exit(values.help ? 0 : 2);
}

function integer(flag: string, text: string): number {
    const value = Number(text);
    if (!Number.isSafeInteger(value))
        fail(`--${flag} must be an integer, got "${text}"`);
    return value;
}

function fail(message: string): never {
    console.error(`${message}\n\n${usage}`);
    process.exit(2);
}

const type = values.type.toUpperCase();
if (!isTensorType(type))
    fail(`--type must be one of ${tensorTypes.join(", ")}, got "${values.type}"`);

const shape = {
    dim: integer("dim", values.dim),
    ffDim: integer("ff", values.ff),
    layers: integer("layers", values.layers),
    heads: integer("heads", values.heads),
    kvHeads: integer("kv-heads", values["kv-heads"]),
    vocabSize: integer("vocab", values.vocab)
};
const parameters = mixtralParameterCount(shape);
const options: MixtralModelOptions = {
    ...shape,
    contextLength: integer("context", values.context),
    tensorType: type,
    seed: integer("seed", values.seed),
    chatTemplate: !values["no-template"],
    name: values.name ?? `random-mixtral-${(parameters / 1e6).toFixed(0)}M-${type.toLowerCase()}`
};
try {
    validateMixtralOptions(options);
} catch (error) {
    fail(error instanceof Error ? error.message : String(error));
}

if (values.force)
    await rm(`${values.out}.json`, {force: true});

console.error(`${options.name}: ${(parameters / 1e6).toFixed(1)}M parameters, ${type}`);
const started = performance.now();
const result = await writeModelIfChanged(values.out, options, {
    onTensorWritten({index, count, fileBytesWritten}) {
        if (process.stderr.isTTY)
            process.stderr.write(`\r  tensor ${index + 1}/${count}, ${(fileBytesWritten / 1024 / 1024).toFixed(0)} MiB`);
    }
});
if (process.stderr.isTTY)
    process.stderr.write("\n");
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(result.written
    ? `wrote ${values.out} (${(result.fileBytes / 1024 / 1024).toFixed(1)} MiB) in ${seconds}s`
    : `${values.out} is up to date (${(result.fileBytes / 1024 / 1024).toFixed(1)} MiB)`);
