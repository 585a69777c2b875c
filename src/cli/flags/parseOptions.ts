import {InvalidArgumentError} from "commander";
import type {GpuChoice} from "../../hardware/types.js";
import {expandHome, type UserSystem} from "../../userFolders.js";
import {windowsPathProblem} from "../../windowsPaths.js";

/** Commander argument parsers: a bad value is a usage error (exit 2) with the flag's name. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
    return (value: string): number => {
        const parsed = Number(value);
        if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max)
            throw new InvalidArgumentError(`expected a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}.`);
        return parsed;
    };
}

export function decimal(min: number, max: number) {
    return (value: string): number => {
        const parsed = Number(value);
        if (value.trim() === "" || !Number.isFinite(parsed) || parsed < min || parsed > max)
            throw new InvalidArgumentError(`expected a number from ${min} to ${max}.`);
        return parsed;
    };
}

export function repeatable(value: string, previous: string[] | undefined): string[] {
    return [...(previous ?? []), value];
}

/** -c, --context-size: the same bounds where a model runs and where doctor plans one. */
export const contextSize = integer(16, 1_048_576);

export const gpuChoices: readonly GpuChoice[] = ["auto", "cuda", "metal", "vulkan", "cpu"];

export function gpuLayers(value: string): number | "auto" | "max" {
    if (value === "auto" || value === "max") return value;
    return integer(0, 10_000)(value);
}

/** A name that must say something (--alias). */
export function nonEmpty(value: string): string {
    if (value.trim() === "") throw new InvalidArgumentError("expected a non-empty name.");
    return value;
}

/**
 * Every flag that takes a file or folder: a leading `~` is the home folder on every system, also
 * where no shell expanded it (cmd.exe, PowerShell, a quoted "~/x", `--flag=~/x`); on Windows a
 * file name NTFS would misread (`talk:x.json` is a hidden stream of `talk`) is refused.
 */
export function pathValue(value: string): string {
    return pathValueOn(value, {env: process.env, platform: process.platform});
}

/** pathValue for a given system (a commander parser gets the previous value as its second argument, so this is apart). */
export function pathValueOn(value: string, system: Pick<UserSystem, "env" | "platform">): string {
    const problem = windowsPathProblem(value, system.platform);
    if (problem != null) throw new InvalidArgumentError(`${problem}.`);
    return expandHome(value, system);
}

/** --json-schema's value is the schema itself (not a file name) when it starts as JSON does. */
export function isInlineSchema(argument: string): boolean {
    return /^\s*[{[]/.test(argument) || /^\s*(true|false)\s*$/.test(argument);
}

/** --json-schema's parser: a file name is a path (pathValue: `~`, NTFS names); inline JSON is left as typed. */
export function schemaArgument(value: string, system: Pick<UserSystem, "env" | "platform"> = {env: process.env, platform: process.platform}): string {
    return isInlineSchema(value) ? value : pathValueOn(value, system);
}
