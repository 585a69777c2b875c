import {quantOf} from "../gguf/quantOf.js";
import {chatFormatWithinBudget} from "./chatFormatWithinBudget.js";
import {ChatSession} from "./chatSession.js";
import type {ChatFormat} from "./chatTemplate.js";
import {generate, tokenizePrompt} from "./generate.js";
import type {OpenedModel} from "./openModel.js";
import type {TextGenerator} from "./textGenerator.js";

/** The generator that runs the engine in this process, on a model already loaded. */
export function localGenerator(loaded: OpenedModel): TextGenerator {
    let chatFormat: ChatFormat | undefined;
    return {
        info: {model: loaded.file.path, backend: loaded.backend, threads: loaded.threads, loadMs: loaded.loadMs,
            quant: quantOf(loaded.model.typeDescription), gpuLayers: loaded.model.gpuLayers},
        complete: (prompt, sampling, callbacks = {}) =>
            generate(loaded.sequence, tokenizePrompt(loaded.sequence, prompt), sampling, {onText: callbacks.onText, signal: callbacks.signal}),
        async prepareChat({signal, onProbe}) {
            const choice = await chatFormatWithinBudget(loaded.model, {signal, onProbe});
            chatFormat = choice.format;
            return choice.note;
        },
        startChat: ({system}) => new ChatSession(loaded.sequence, {
            system,
            format: chatFormat,
            stateOwner: {modelPath: loaded.file.path, contextSize: loaded.contextSize, ...loaded.kvCache}
        }),
        dispose: () => loaded.dispose()
    };
}
