import {CommanderError} from "commander";
import {ExitCode, MixtralError} from "../errors.js";
import {buildProgram} from "./program.js";
import {terminalPolicy} from "./ui/terminal.js";

/**
 * The one entry: runs the program, and turns every failure into one sentence (plus a hint) on
 * stderr and an exit code. The only place that calls process.exit.
 */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
        // The reader went away (`| head`): nothing more can be shown, and that is not a failure.
        if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") process.exit(ExitCode.ok);
        throw error;
    });
}

function report(error: unknown): ExitCode {
    const verbose = process.argv.includes("--verbose");
    const colors = terminalPolicy().stderrColors;
    if (error instanceof CommanderError) {
        // Commander already printed its own message (or the help text).
        if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return ExitCode.ok;
        return ExitCode.usage;
    }
    if (error instanceof MixtralError) {
        process.stderr.write(`${colors.red("error:")} ${error.message}\n`);
        if (error.hint != null) process.stderr.write(`${colors.dim("hint:")} ${error.hint}\n`);
        if (verbose && error.cause != null) process.stderr.write(colors.dim(`cause: ${formatCause(error.cause)}\n`));
        return error.exitCode;
    }
    process.stderr.write(`${colors.red("error:")} unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
    process.stderr.write(`${colors.dim("hint:")} this is a bug in mixtral; run again with --verbose and report the output.\n`);
    if (verbose && error instanceof Error && error.stack != null) process.stderr.write(colors.dim(error.stack + "\n"));
    return ExitCode.failure;
}

function formatCause(cause: unknown): string {
    if (cause instanceof Error) return cause.stack ?? cause.message;
    return String(cause);
}

exitQuietlyOnClosedPipe(process.stdout);
exitQuietlyOnClosedPipe(process.stderr);

let exitCode: number = ExitCode.ok;
try {
    await buildProgram().parseAsync(process.argv);
    exitCode = process.exitCode == null ? ExitCode.ok : Number(process.exitCode);
} catch (error) {
    exitCode = report(error);
}
// Native handles (llama.cpp threads) can keep the loop alive after the work is done.
process.stdout.write("", () => process.exit(exitCode));
