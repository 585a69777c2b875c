#!/usr/bin/env node
// CommonJS on purpose (bin/package.json): an ES module entry is read through libuv's thread pool,
// which fixes the pool's size before this file runs; here the pool is still unstarted.
"use strict";

// The commands that run a model: libuv's default pool of 4 threads competes with llama.cpp's own
// threads for the cores (measured up to 8x slower generation on 2 cores), and these commands need
// the pool only for one native call at a time. Downloads (pull) keep the default for file I/O.
// An explicit UV_THREADPOOL_SIZE from the user wins.
const modelCommands = new Set(["complete", "chat", "run", "bench", "serve", "perplexity"]);
const command = process.argv.slice(2).find((argument) => !argument.startsWith("-"));
// perplexity is the exception: its reads of the distributions run between decodes, not beside them,
// and several at once (engine/score/chunkScorer.ts), one a core (1.5x the tokens a second on 2 cores).
if (command != null && modelCommands.has(command) && process.env.UV_THREADPOOL_SIZE == null)
    process.env.UV_THREADPOOL_SIZE = command === "perplexity" ? String(Math.min(4, require("node:os").availableParallelism())) : "1";

// Ctrl+C (SIGTERM, SIGHUP, Ctrl+Break) at any moment, from now on: a quiet end, 130 for Ctrl+C, unless a
// command has claimed the signal (src/cli/interrupt.ts fills the claims). The one handler stays
// for the whole run: swapping a signal's listener loses a signal that arrives meanwhile.
const claimedSignals = globalThis[Symbol.for("mixtral.claimedSignals")] ??= new Map();
// 128 + n, as a POSIX shell shows: 130 Ctrl+C, 143 SIGTERM, 129 SIGHUP, 149 Ctrl+Break (Windows).
const signalNumbers = {SIGHUP: 1, SIGINT: 2, SIGTERM: 15, SIGBREAK: 21};
const earlySignalHandler = (signal) => {
    if ((claimedSignals.get(signal) ?? 0) > 0) return;
    process.removeAllListeners(signal);
    // Windows has no dying of a signal: killing oneself is TerminateProcess with exit code 1, and
    // SIGHUP (the console closing) throws. Set the code directly (src/cli/platformSignals.ts).
    if (process.platform === "win32" || signal === "SIGBREAK") process.exit(128 + signalNumbers[signal]);
    // Dying of the signal, not process.exit: exiting waits for a llama.cpp call running in libuv's
    // thread pool (a model load, a decode), and a shell shows the same 128 + n either way.
    process.kill(process.pid, signal);
    // Only reached when the signal is ignored (SIG_IGN inherited from a shell's `&`).
    process.exit(128 + signalNumbers[signal]);
};
// The name is bound here: a signal raised with process.emit (serve turns SIGTERM into SIGINT) passes none.
for (const signal of Object.keys(signalNumbers)) process.on(signal, () => earlySignalHandler(signal));
globalThis[Symbol.for("mixtral.earlySignalHandler")] = earlySignalHandler;

// The compile cache makes every later start faster.
require("node:module").enableCompileCache?.();
import("../dist/src/cli/index.js");
