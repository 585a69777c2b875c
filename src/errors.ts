/**
 * Typed errors: every failure a user can cause carries one clear sentence, a hint and an exit code.
 * They are thrown by the core and caught once, in src/cli/index.ts.
 */
export const ExitCode = {
    ok: 0,
    failure: 1,
    usage: 2,
    /** --json-schema/--grammar output cut (--max-tokens, a stop string, a full context) before it was complete. */
    cutOff: 3,
    interrupted: 130
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class MixtralError extends Error {
    readonly hint?: string;
    readonly exitCode: ExitCode;

    constructor(message: string, options: {hint?: string, exitCode?: ExitCode, cause?: unknown} = {}) {
        super(message, {cause: options.cause});
        this.name = new.target.name;
        this.hint = options.hint;
        this.exitCode = options.exitCode ?? ExitCode.failure;
    }
}

/** Bad flags or arguments: exit code 2. */
export class UsageError extends MixtralError {
    constructor(message: string, options: {hint?: string, cause?: unknown} = {}) {
        super(message, {...options, exitCode: ExitCode.usage});
    }
}

/** A model file that is missing, unreadable, corrupt or not a model this tool can run. */
export class ModelFileError extends MixtralError {}

/** A catalog name that does not resolve. */
export class ModelNotFoundError extends MixtralError {}

/** A LoRA adapter that cannot be converted, or does not fit the model it is applied to. */
export class AdapterError extends MixtralError {}

/** Network, disk or checksum trouble while downloading. */
export class DownloadError extends MixtralError {}

/** The native engine failed (load, context creation, generation). */
export class EngineError extends MixtralError {}

/** An OpenAI-compatible server (--endpoint, or a local `mixtral serve`) could not be reached or refused a request. */
export class EndpointError extends MixtralError {}

/** Constrained output that ended before the grammar was complete: exit code 3, so scripts never take it as valid. */
export class CutOffError extends MixtralError {
    constructor(message: string, options: {hint?: string, cause?: unknown} = {}) {
        super(message, {...options, exitCode: ExitCode.cutOff});
    }
}

/** The user pressed Ctrl+C (or the AbortSignal fired): exit code 130. */
export class InterruptedError extends MixtralError {
    constructor(message = "Interrupted.", options: {hint?: string, cause?: unknown} = {}) {
        super(message, {...options, exitCode: ExitCode.interrupted});
    }
}

export function isAbortError(error: unknown): boolean {
    return error instanceof InterruptedError ||
        (error instanceof Error && (error.name === "AbortError" || error.name === "AbortSignalError"));
}
