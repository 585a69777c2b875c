import {CommanderError} from "commander";
import {ExitCode, MixtralError} from "../errors.js";
import {expandLlamaCppFlagAliases} from "./flags/llamaCppFlagAliases.js";
import {joinLoraScaledArguments} from "./flags/loraOptions.js";
import {installSignalPolicy} from "./interrupt.js";
import {buildProgram} from "./program.js";
import {logError, logLine, terminalPolicy} from "./ui/terminal.js";

/** A closed or failing stdout/stderr ends the process at once, quietly when the reader just left. */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream) {
    stream.on("error", (error: NodeJS.ErrnoException) => exitOnOutputError(stream, error));
}

function exitOnOutputError(stream: NodeJS.WriteStream, error: NodeJS.ErrnoException): never {
    // The reader went away (`| head`): nothing more can be shown, and that is not a failure.
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") process.exit(ExitCode.ok);
    // Any other output failure (EIO, a full disk behind `> out.txt`): one sentence where it can
    // still be read, never a stack trace, and a failing exit so scripts notice.
    if (stream !== process.stderr) logError(`Cannot write the output: ${error.message}`);
    process.exit(ExitCode.failure);
}

/** The failure as one sentence and a hint on stderr (the stack only with --verbose, for a bug); its exit code. */
function report(error: unknown): ExitCode {
    const verbose = process.argv.includes("--verbose");
    const colors = terminalPolicy().stderrColors;
    if (error instanceof CommanderError) {
        // Commander already printed its own message (or the help text).
        if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return ExitCode.ok;
        return ExitCode.usage;
    }
    if (error instanceof MixtralError) {
        logError(error.message, error.hint);
        if (verbose && error.cause != null) logLine(colors.dim(`cause: ${formatCause(error.cause)}`));
        return error.exitCode;
    }
    logError(`unexpected failure: ${error instanceof Error ? error.message : String(error)}`,
        "this is a bug in mixtral; run again with --verbose and report the output.");
    if (verbose && error instanceof Error && error.stack != null) logLine(colors.dim(error.stack));
    return ExitCode.failure;
}

function formatCause(cause: unknown): string {
    if (cause instanceof Error) return cause.stack ?? cause.message;
    return String(cause);
}

// The one entry: runs the program, and turns every failure into one sentence (plus a hint) on
// stderr and an exit code. The only place that calls process.exit.
installSignalPolicy();
exitQuietlyOnClosedPipe(process.stdout);
exitQuietlyOnClosedPipe(process.stderr);

let exitCode: number = ExitCode.ok;
try {
    await buildProgram().parseAsync(joinLoraScaledArguments(expandLlamaCppFlagAliases(process.argv)));
    exitCode = process.exitCode == null ? ExitCode.ok : Number(process.exitCode);
} catch (error) {
    exitCode = report(error);
    // Commander printed mixtral's version; the engine's follow (loaded only now, so --help stays fast).
    if (error instanceof CommanderError && error.code === "commander.version") {
        const {printEngineVersions} = await import("./commands/version.js");
        await printEngineVersions();
    }
}
// Native handles (llama.cpp threads) can keep the loop alive after the work is done. The exit waits
// for every pending write of the results: one that failed (stdout on a full disk, `> /dev/full`)
// reaches this callback before the stream's 'error' event would, and must not end as a success.
process.stdout.write("", (error) => {
    if (error != null) exitOnOutputError(process.stdout, error);
    process.exit(exitCode);
});
