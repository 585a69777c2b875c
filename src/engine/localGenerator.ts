import {quantOf} from "../gguf/quantOf.js";
import {completeInOrder} from "../generator/completeInOrder.js";
import type {TextGenerator} from "../generator/textGenerator.js";
import {openBatch} from "./batch/openBatch.js";
import type {BatchScheduler} from "./batch/batchScheduler.js";
import {chatFormatWithinBudget} from "./chat/chatFormatWithinBudget.js";
import {ChatSession} from "./chat/chatSession.js";
import type {ChatFormat} from "./chat/chatTemplate.js";
import {generate} from "./direct/generate.js";
import {tokenizePrompt} from "./generation/tokenizePrompt.js";
import type {OpenedModel} from "./load/openModel.js";

/**
 * The generator that runs the engine in this process, on a model already loaded. `parallel` is the
 * number of sequences it was opened with: completeEach decodes that many prompts together.
 */
export function localGenerator(loaded: OpenedModel, {parallel = 1}: {parallel?: number} = {}): TextGenerator {
    let chatFormat: ChatFormat | undefined;
    let batch: BatchScheduler | undefined;
    return {
        info: {model: loaded.file.path, backend: loaded.backend, threads: loaded.threads, loadMs: loaded.loadMs, parallel,
            quant: quantOf(loaded.model.typeDescription), gpuLayers: loaded.model.gpuLayers, experts: loaded.experts},
        complete: (prompt, sampling, callbacks = {}) =>
            generate(loaded.sequence, tokenizePrompt(loaded.sequence, prompt), sampling, {onText: callbacks.onText, signal: callbacks.signal}),
        completeEach(prompts, sampling, {signal} = {}) {
            if (parallel <= 1)
                // One at a time from an empty sequence: the answer `complete` gives each prompt alone.
                return completeInOrder(prompts, 1, async (prompt) => {
                    await loaded.sequence.clearHistory();
                    return generate(loaded.sequence, tokenizePrompt(loaded.sequence, prompt), sampling, {signal});
                });
            // The server's scheduler on the context's sequences; its queue holds the prompts read ahead, never more.
            batch ??= openBatch(loaded, parallel, parallel * 2);
            const scheduler = batch;
            return completeInOrder(prompts, parallel * 2, (prompt) =>
                scheduler.submit({promptTokens: tokenizePrompt(loaded.sequence, prompt), sampling, signal}));
        },
        async prepareChat({signal, onProbe}) {
            const choice = await chatFormatWithinBudget(loaded.model, {signal, onProbe});
            chatFormat = choice.format;
            return choice.note;
        },
        startChat: ({system}) => new ChatSession(loaded.sequence, {
            system,
            format: chatFormat,
            stateOwner: {modelPath: loaded.file.path, contextSize: loaded.contextSize, ...loaded.kvCache,
                ...(loaded.experts.used === loaded.experts.fileUsed ? {} : {expertsUsed: loaded.experts.used})}
        }),
        async dispose() {
            await batch?.close();
            await loaded.dispose();
        }
    };
}
