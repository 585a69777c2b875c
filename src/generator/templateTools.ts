/**
 * Tools as a chat template with tool support of its own (Mistral's v3 template and later) takes
 * them: the engine renders them, and the calls in the history, in the template's own format, and
 * reports the syntax the model calls in, so the server can constrain and read the answer.
 */

/** A function offered to the model: its name, what it does, its arguments' JSON Schema. */
export type ToolSpec = {name: string, description?: string, parameters: Record<string, unknown>};

/**
 * How the template writes a model's calls, as plain text (special tokens by their text): the
 * section of calls opens with `sectionPrefix`, each call is `callPrefix` name `paramsPrefix`
 * arguments-as-JSON `callSuffix`, calls are separated by `betweenCalls`, and the section ends with
 * `sectionSuffix` (the end of the turn follows). Mistral v3: `[TOOL_CALLS] [` `{"name": "` … `", "arguments": ` … `}` `, ` `]`.
 */
export type ToolCallSyntax = {
    sectionPrefix: string,
    callPrefix: string,
    paramsPrefix: string,
    callSuffix: string,
    betweenCalls: string,
    sectionSuffix: string,
    /** Whether the model may write a space before the section. */
    optionalPrefixSpace: boolean
};
