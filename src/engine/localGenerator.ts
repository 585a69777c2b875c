import {quantOf} from "../bench/buildRow.js";
import {ChatSession} from "./chatSession.js";
import {generate, tokenizePrompt} from "./generate.js";
import type {OpenedModel} from "./openModel.js";
import type {TextGenerator} from "./textGenerator.js";

/** The generator that runs the engine in this process, on a model already loaded. */
export function localGenerator(loaded: OpenedModel): TextGenerator {
    return {
        info: {model: loaded.file.path, backend: loaded.backend, threads: loaded.threads, loadMs: loaded.loadMs,
            quant: quantOf(loaded.model.typeDescription), gpuLayers: loaded.model.gpuLayers},
        complete: (prompt, sampling, callbacks = {}) =>
            generate(loaded.sequence, tokenizePrompt(loaded.sequence, prompt), sampling, {onText: callbacks.onText, signal: callbacks.signal}),
        startChat: ({system}) => new ChatSession(loaded.sequence, {system}),
        dispose: () => loaded.dispose()
    };
}
