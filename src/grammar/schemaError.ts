import {UsageError} from "../errors.js";

/**
 * A schema the grammar cannot honour, as one sentence naming where (a JSON Pointer into the
 * schema). The prefix is the CLI flag's; the server swaps it for its own parameter's name.
 */
export function schemaError(message: string, path: string): UsageError {
    return new UsageError(`--json-schema: ${message}${path === "" ? "" : ` (at ${path})`}.`);
}
