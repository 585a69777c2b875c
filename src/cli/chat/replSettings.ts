import {InvalidArgumentError} from "commander";
import type {SamplingOptions} from "../../generator/sampling.js";
import type {ChatConversation} from "../../generator/textGenerator.js";
import {UsageError} from "../../errors.js";
import {decimal, integer} from "../flags/parseOptions.js";

/** What `/set` changes, with the same bounds as the flags of the same names (program.ts). */
const numericSettings = {
    "temperature": {field: "temperature", parse: decimal(0, 100)},
    "top-k": {field: "topK", parse: integer(0)},
    "top-p": {field: "topP", parse: decimal(0, 1)},
    "min-p": {field: "minP", parse: decimal(0, 1)},
    "repeat-penalty": {field: "repeatPenalty", parse: decimal(0, 100)},
    "max-tokens": {field: "maxTokens", parse: integer(0)},
    "seed": {field: "seed", parse: integer(0, 2 ** 32 - 1)}
} as const satisfies Record<string, {field: keyof SamplingOptions, parse: (value: string) => number}>;

export const settingNames = [...Object.keys(numericSettings), "stop", "system", "experts"];

/**
 * `/set experts <n>`: the experts each token is routed to. llama.cpp reads the count when the model
 * loads, so a new N reloads the model (an unchanged one does not); the conversation carries over.
 */
export type ExpertsDial = {
    /** "2 of 8 experts" */
    current(): string,
    /** The conversation so far goes to the reloaded model's new session. */
    set(value: string, conversation: ChatConversation): Promise<{session?: ChatConversation, note: string, failure?: unknown}>
};

type SettingsTarget = {
    sampling: SamplingOptions,
    setSystem(text: string | undefined): void
};

/** `/set <name> <value>`, as Ollama's: changes the next answers; returns the note to show. */
export function applySetting(target: SettingsTarget, name: string, value: string): string {
    const key = settingKey(name);
    if (key === "system") {
        target.setSystem(value === "" ? undefined : value);
        return value === "" ? "(system text cleared)" : "(system text set; it opens the conversation from the next answer on)";
    }
    if (key === "stop") {
        // As --stop, which repeats: each /set stop adds one; alone, it clears them.
        target.sampling.stop = value === "" ? [] : [...target.sampling.stop, value];
        return value === "" ? "(stop strings cleared)" : `(stop strings: ${formatStops(target.sampling.stop)})`;
    }
    const setting = numericSettings[key as keyof typeof numericSettings];
    if (setting == null)
        throw new UsageError(`/set does not know "${name}".`, {hint: `Settings: ${settingNames.join(", ")}; e.g. /set temperature 0.2`});
    if (value === "") throw new UsageError(`/set ${key} needs a value.`, {hint: `e.g. /set ${key} ${formatValue(target.sampling[setting.field])}`});
    let parsed: number;
    try {
        parsed = setting.parse(value);
    } catch (error) {
        if (!(error instanceof InvalidArgumentError)) throw error;
        throw new UsageError(`/set ${key} ${value}: ${error.message}`);
    }
    target.sampling[setting.field] = parsed;
    return `(${key} set to ${parsed})`;
}

/** "Top_K" → "top-k", as /set accepts names. */
export function settingKey(name: string): string {
    return name.toLowerCase().replaceAll("_", "-");
}

/** `/show`: the settings the next answer uses. */
export function formatSettings(sampling: SamplingOptions, system: string | undefined, experts?: string): string {
    const lines = Object.entries(numericSettings).map(([key, {field}]) => `${key.padEnd(15)} ${formatValue(sampling[field])}`);
    lines.push(`${"stop".padEnd(15)} ${sampling.stop.length === 0 ? "(none)" : formatStops(sampling.stop)}`);
    lines.push(`${"system".padEnd(15)} ${system == null || system === "" ? "(none)" : system}`);
    if (experts != null) lines.push(`${"experts".padEnd(15)} ${experts}`);
    return lines.join("\n");
}

/** "\n\n", "User:": quoted, so a newline or a space shows. */
function formatStops(stops: readonly string[]): string {
    return stops.map((stop) => JSON.stringify(stop)).join(", ");
}

function formatValue(value: unknown): string {
    return value == null ? "(random)" : String(value);
}
