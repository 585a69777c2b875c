import {openModel, type OpenModelOptions, type OpenedModel} from "../engine/openModel.js";
import {startProgress} from "./ui/progress.js";
import {logLine} from "./ui/terminal.js";

export type ModelFlags = {
    model?: string,
    contextSize?: number,
    threads?: number,
    gpu: OpenModelOptions["gpu"],
    gpuLayers?: OpenModelOptions["gpuLayers"],
    verbose?: boolean
};

/** Loads a model with a progress bar on stderr (TTY only) and llama.cpp's log with --verbose. */
export async function loadModelWithProgress(path: string, flags: ModelFlags, signal: AbortSignal): Promise<OpenedModel> {
    const progress = startProgress("Loading model");
    try {
        return await openModel({
            path,
            gpu: flags.gpu,
            gpuLayers: flags.gpuLayers,
            contextSize: flags.contextSize,
            threads: flags.threads,
            onLoadProgress: (fraction) => progress.update(fraction),
            onLog: flags.verbose === true ? (message) => logLine(message) : undefined,
            signal
        });
    } finally {
        progress.stop();
    }
}
