import {spawn} from "node:child_process";
import {createHash} from "node:crypto";
import {fileURLToPath} from "node:url";
import type {LlamaModel} from "node-llama-cpp";
import {InterruptedError} from "../../errors.js";
import {chatFormatFor, mistralInstructFormat, type ChatFormat} from "./chatTemplate.js";

/**
 * A chat template is code from the model file, and node-llama-cpp renders it synchronously: one
 * that loops would hang chat for good (deaf to Ctrl+C), one that allocates without end kills V8.
 * So a template is first tried in a child process, under a time and size budget; one that does not
 * pass is replaced by Mistral Instruct's format, with a note saying why.
 */
const maxTemplateBytes = 256 * 1024;
const maxRenderedChars = 1024 * 1024;
/** Starting Node and the Jinja wrapper takes ~0.2 s on an idle machine; rendering a real template, milliseconds. */
const budgetMs = 5000;

/** Templates known to render well (sha256 of the text): no child process for them. */
const knownGoodTemplates = new Set([
    // mistralai/Mixtral-8x7B-Instruct-v0.1's tokenizer_config.json template (and the test models')
    "796853172235ab3aaa4810013ddfe2eab481bda3306dad4f700c00d436eed596"
]);

export type ChatFormatChoice = {format: ChatFormat, /** why the file's template was not used */ note?: string};

export async function chatFormatWithinBudget(model: LlamaModel, options: {signal?: AbortSignal, onProbe?: () => void} = {}): Promise<ChatFormatChoice> {
    const template = model.fileInfo.metadata.tokenizer?.chat_template;
    if (typeof template !== "string" || template.trim() === "") return {format: mistralInstructFormat};
    const fallback = (why: string): ChatFormatChoice => ({format: mistralInstructFormat, note: `the model's chat template ${why}; using Mistral Instruct's format instead`});
    const bytes = Buffer.byteLength(template);
    if (bytes > maxTemplateBytes) return fallback(`is ${Math.round(bytes / 1024)} KiB, more than the ${maxTemplateBytes / 1024} KiB a template may be`);
    if (!knownGoodTemplates.has(createHash("sha256").update(template).digest("hex"))) {
        options.onProbe?.();
        const problem = await probeTemplate(template, options.signal);
        if (problem != null) return fallback(problem);
    }
    return {format: chatFormatFor(model)};
}

/** Renders the template in a child process; the problem in a few words, or undefined when it is fine. */
function probeTemplate(template: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
        if (signal?.aborted === true) {
            reject(new InterruptedError());
            return;
        }
        const child = spawn(process.execPath, ["--max-old-space-size=256", fileURLToPath(new URL("./chatTemplateProbeChild.js", import.meta.url))], {
            stdio: ["pipe", "pipe", "ignore"]
        });
        let output = "";
        let settled = false;
        const finish = (outcome: () => void) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            child.kill("SIGKILL");
            outcome();
        };
        const onAbort = () => finish(() => reject(new InterruptedError()));
        const timer = setTimeout(() => finish(() => resolve(`did not finish rendering within ${budgetMs / 1000} s`)), budgetMs);
        signal?.addEventListener("abort", onAbort, {once: true});
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => { output += chunk; });
        child.on("error", (error) => finish(() => resolve(`could not be tried (${error.message})`)));
        child.on("close", (code) => finish(() => {
            if (code !== 0) {
                resolve("failed to render");
                return;
            }
            const rendered = Number((JSON.parse(output) as {renderedLength?: unknown}).renderedLength);
            resolve(rendered > maxRenderedChars ? `renders a short conversation as ${rendered} characters` : undefined);
        }));
        child.stdin.on("error", () => {});
        child.stdin.end(template);
    });
}
