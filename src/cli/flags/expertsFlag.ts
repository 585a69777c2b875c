import {InvalidArgumentError, Option, type Command} from "commander";
import {parseIntegerList} from "./benchFlags.js";

/**
 * `--experts <n>`: experts each token is routed to (llama.cpp's `--override-kv
 * llama.expert_used_count=int:N`). A command adopts it with `addExpertsOption(command)` and hands
 * `options.experts` to the engine as `expertsUsed`; the file's range (1..expert_count, and "not on a
 * dense model") is checked against its header before any load (gguf/expertsUsed.ts).
 */
export type ExpertsFlag = {experts?: number};

const description = "experts each token is routed to, 1 to the model's count (default: the file's, 2 of 8 for Mixtral)";

/** A whole number from 1; the model's upper bound is checked once its header is read. */
export function parseExperts(value: string): number {
    const parsed = Number(value.trim());
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < 1)
        throw new InvalidArgumentError("expected a whole number of experts from 1 to the model's count (8 for Mixtral).");
    return parsed;
}

export function expertsOption(text = description): Option {
    return new Option("--experts <n>", text).argParser(parseExperts);
}

export function addExpertsOption(command: Command): Command {
    return command.addOption(expertsOption());
}

/** bench's list, as llama-bench's lists: "1,2,4" runs each. */
export function parseExpertsList(value: string): number[] {
    return parseIntegerList("--experts", value, 1, 1024);
}

export function addExpertsListOption(command: Command): Command {
    return command.addOption(new Option("--experts <list>", `${description}; a comma list runs each`).argParser(parseExpertsList));
}
