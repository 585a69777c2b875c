import type {GenerationResult} from "../../generator/result.js";
import type {GrammarSpec} from "../../generator/sampling.js";
import {CutOffError, UsageError} from "../../errors.js";
import {anyJsonObjectGrammar, jsonSchemaGrammar} from "../../grammar/jsonSchemaToGbnf.js";
import {checkGbnf} from "../../grammar/parseGbnf.js";
import {readTextFile} from "../../textFile.js";
import {isInlineSchema} from "./parseOptions.js";

/** The flags that constrain the output, as commander gives them. */
export type OutputConstraintFlags = {
    /** A schema file, or the schema itself (inline JSON). */
    jsonSchema?: string,
    /** A GBNF file. */
    grammar?: string,
    format?: "json"
};

/**
 * Turns --json-schema, --grammar or --format into the grammar the sampler enforces. Runs before the
 * model loads, so a bad schema or grammar is a usage error (exit 2) within milliseconds.
 */
export async function readOutputConstraint(flags: OutputConstraintFlags): Promise<GrammarSpec | undefined> {
    const given = (["jsonSchema", "grammar", "format"] as const).filter((flag) => flags[flag] != null);
    if (given.length > 1) throw new UsageError("Give only one of --json-schema, --grammar and --format.");
    if (flags.format != null) return anyJsonObjectGrammar();
    if (flags.jsonSchema != null) return jsonSchemaGrammar(await readSchema(flags.jsonSchema));
    if (flags.grammar != null) return readGbnf(flags.grammar);
    return undefined;
}

/**
 * The constraint as OpenAI's `response_format`, for a server (ours, vLLM, llama-server and Ollama
 * take it); undefined for --grammar, which has no OpenAI form.
 */
export async function responseFormatOf(flags: OutputConstraintFlags): Promise<Record<string, unknown> | undefined> {
    if (flags.format != null) return {type: "json_object"};
    if (flags.jsonSchema != null) return {type: "json_schema", json_schema: {name: "output", strict: true, schema: await readSchema(flags.jsonSchema)}};
    return undefined;
}

async function readSchema(argument: string): Promise<unknown> {
    const inline = isInlineSchema(argument);
    const text = inline ? argument : await readText(argument, "--json-schema");
    try {
        return JSON.parse(text) as unknown;
    } catch (error) {
        throw new UsageError(`--json-schema: ${inline ? "the schema" : argument} is not valid JSON (${(error as Error).message}).`);
    }
}

async function readGbnf(path: string): Promise<GrammarSpec> {
    const gbnf = await readText(path, "--grammar");
    const error = checkGbnf(gbnf);
    if (error != null) throw new UsageError(`--grammar ${path}: ${error.message} at line ${error.line}, column ${error.column}.`);
    return {gbnf, closed: false, describes: "grammar"};
}

async function readText(path: string, flag: string): Promise<string> {
    try {
        // A schema or grammar saved by a Windows tool (a BOM, UTF-16) reads as the same text.
        return await readTextFile(path);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new UsageError(`${flag}: cannot read ${path}${code === "ENOENT" ? " (no such file)" : code != null ? ` (${code})` : ""}.`, {cause: error});
    }
}

/** Why constrained output is not complete, as the error that exits with 3; undefined when it is complete (or was Ctrl+C). */
export function incompleteOutput(result: Pick<GenerationResult, "complete" | "stopReason" | "tokens">, grammar: GrammarSpec | undefined): CutOffError | undefined {
    if (grammar == null || result.complete !== false || result.stopReason === "abort") return undefined;
    const what = grammar.describes === "JSON" ? "the JSON" : "the grammar";
    if (result.stopReason === "stop")
        return new CutOffError(`A --stop string cut the output before ${what} was complete; drop --stop.`);
    if (result.stopReason === "contextFull")
        return new CutOffError(`The context filled up at ${result.tokens.generated} tokens before ${what} was complete; raise --context-size.`);
    return new CutOffError(`The output was cut at ${result.tokens.generated} tokens before ${what} was complete; raise --max-tokens.`);
}
