import {InvalidArgumentError, type Command} from "commander";
import type {LoraAdapter} from "../../engine/index.js";
import {pathValue} from "./parseOptions.js";

/**
 * --lora <file> (repeatable; `file:scale` too) and llama.cpp's --lora-scaled <file> <scale>. Commander
 * options take one value, so the two words after --lora-scaled are joined before parsing
 * (joinLoraScaledArguments) and split again here.
 */
const joined = "\0";
const scaleSuffix = /:(-?\d+(?:\.\d+)?(?:e-?\d+)?)$/i;

export function addLoraOptions(command: Command): Command {
    return command
        .option("--lora <file>", "apply a GGUF LoRA adapter (repeatable; file:scale sets its scale; default: 1)", (value: string, previous: LoraAdapter[] | undefined) => [...(previous ?? []), parseLora(value)])
        .option("--lora-scaled <file> <scale>", "apply a LoRA adapter with this scale (repeatable; 0 turns it off)", (value: string, previous: LoraAdapter[] | undefined) => [...(previous ?? []), parseLoraScaled(value)]);
}

/** The adapters of both flags, in the order given per flag (--lora first). */
export function loraAdaptersOf(options: {lora?: LoraAdapter[], loraScaled?: LoraAdapter[]}): LoraAdapter[] {
    return [...options.lora ?? [], ...options.loraScaled ?? []];
}

/** `--lora-scaled FILE SCALE` → `--lora-scaled FILE\0SCALE`, so commander sees one value. */
export function joinLoraScaledArguments(argv: readonly string[]): string[] {
    const out: string[] = [];
    for (let index = 0; index < argv.length; index++) {
        const argument = argv[index]!;
        if (argument === "--") {
            out.push(...argv.slice(index));
            break;
        }
        if (argument === "--lora-scaled" && index + 2 < argv.length && !argv[index + 2]!.startsWith("--")) {
            out.push(argument, `${argv[index + 1]}${joined}${argv[index + 2]}`);
            index += 2;
        } else out.push(argument);
    }
    return out;
}

function parseLora(value: string): LoraAdapter {
    const match = scaleSuffix.exec(value);
    return match == null ? {path: pathValue(value), scale: 1} : {path: pathValue(value.slice(0, match.index)), scale: parseScale(match[1]!)};
}

function parseLoraScaled(value: string): LoraAdapter {
    const [path, scale] = value.split(joined);
    if (scale == null || path === "") throw new InvalidArgumentError("expected a file and a scale: --lora-scaled <file> <scale>.");
    return {path: pathValue(path!), scale: parseScale(scale)};
}

function parseScale(value: string): number {
    const scale = Number(value);
    if (value.trim() === "" || !Number.isFinite(scale) || Math.abs(scale) > 100)
        throw new InvalidArgumentError(`the scale must be a number from -100 to 100, got "${value}".`);
    return scale;
}
