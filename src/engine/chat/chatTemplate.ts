import {JinjaTemplateChatWrapper, LlamaText, SpecialToken, SpecialTokensText, type ChatHistoryItem, type LlamaModel, type Tokenizer} from "node-llama-cpp";
import {ModelFileError} from "../../errors.js";
import {answerPlaceholder, escapeMarkers} from "./answerMarkers.js";
import {templateToolFormat, type TemplateToolFormat} from "./templateToolFormat.js";

export type ChatRole = "user" | "assistant";
export type ChatMessage = {role: ChatRole, content: string};

/**
 * How a conversation becomes prompt text. Assistant answers are rendered as placeholders so the
 * caller can splice in the exact tokens the model generated (re-tokenizing an answer's text can
 * split it differently, and then the KV cache could not be reused).
 */
export type ChatFormat = {
    /** "file": the GGUF's own chat template; "mistral": Mistral Instruct's format, built in. */
    source: "file" | "mistral",
    /** One line for --verbose and /stats. */
    description: string,
    /** The conversation up to the point where the next answer starts; messages end with a user message. */
    render(system: string | undefined, messages: readonly ChatMessage[]): LlamaText,
    /** The template puts a space before an answer (Mistral's `[/INST] {answer}`): it is the answer's first token's. */
    answersFollowSpace: boolean,
    /** When the template has tool support of its own: its rendering of tools and of calls and results in the history. */
    tools?: TemplateToolFormat
};



/**
 * The file's chat template when it has one (the Jinja text Mistral ships, rendered by
 * node-llama-cpp); otherwise Mistral Instruct's format. Files converted before templates were
 * stored in GGUF (TheBloke's Mixtral quants) carry none, and a generic format would confuse the model.
 */
export function chatFormatFor(model: LlamaModel): ChatFormat {
    const template = model.fileInfo.metadata.tokenizer?.chat_template;
    if (typeof template === "string" && template.trim() !== "") return jinjaChatFormat(template, model.tokenizer);
    return mistralInstructFormat;
}

/** A Jinja chat template, as found in GGUF files (tokenizer.chat_template). */
export function jinjaChatFormat(template: string, tokenizer: Tokenizer): ChatFormat {
    let wrapper: JinjaTemplateChatWrapper;
    try {
        wrapper = new JinjaTemplateChatWrapper({
            template,
            tokenizer,
            // The original Mixtral template rejects a system role: then the text opens the first user
            // message, separated by a blank line, as Mistral's revised template does it.
            convertUnsupportedSystemMessagesToUserMessages: {use: "ifNeeded", format: "{{message}}"}
        });
    } catch (error) {
        throw new ModelFileError("The model's chat template could not be used.", {
            hint: "The template in the GGUF file is broken; re-download the file or use another quant.",
            cause: error
        });
    }
    const format: ChatFormat = {
        source: "file",
        description: "the model file's chat template",
        answersFollowSpace: false,
        render(system, messages) {
            const history: ChatHistoryItem[] = [];
            if (system != null && system !== "") history.push({type: "system", text: escapeMarkers(system)});
            messages.forEach((message, index) => {
                history.push(message.role === "user"
                    ? {type: "user", text: escapeMarkers(message.content)}
                    : {type: "model", response: [answerPlaceholder(index)]});
            });
            // An empty model response marks where the next answer starts.
            history.push({type: "model", response: []});
            return wrapper.generateContextState({chatHistory: history}).contextText;
        }
    };
    format.answersFollowSpace = spaceBeforeAnswer(format);
    // node-llama-cpp found how this template writes calls and results: tools go through it.
    if (wrapper.usingJinjaFunctionCallTemplate) {
        format.tools = templateToolFormat(wrapper);
        format.description += ", tools in its own format";
    }
    return format;
}

/** Whether the rendered text has a space right before an answer (read off a two-message conversation). */
function spaceBeforeAnswer(format: ChatFormat): boolean {
    let rendered: LlamaText;
    try {
        rendered = format.render(undefined, [{role: "user", content: "x"}, {role: "assistant", content: "y"}, {role: "user", content: "z"}]);
    } catch {
        // A template that refuses this conversation fails where a real one is rendered, with its own message.
        return false;
    }
    const flat = rendered.values.map((value) => typeof value === "string" ? value : value instanceof SpecialTokensText ? value.value : "\0").join("");
    const at = flat.indexOf(answerPlaceholder(1));
    return at > 0 && flat[at - 1] === " ";
}

/**
 * Mistral's own Instruct v1 format, the text of the template in Mixtral-8x7B-Instruct-v0.1's
 * tokenizer_config.json, rendered the way node-llama-cpp renders that template:
 * `<s> [INST] {system}\n\n{user} [/INST] {answer}</s> [INST] {user} [/INST] `.
 * Mixtral has no system role: the system text opens the first user turn, as that template does.
 */
export const mistralInstructFormat: ChatFormat = {
    source: "mistral",
    description: "Mistral Instruct format (the file has no chat template)",
    answersFollowSpace: true,
    render(system, messages) {
        const parts: LlamaText[] = [LlamaText(new SpecialToken("BOS"))];
        messages.forEach((message, index) => {
            if (message.role === "assistant") {
                parts.push(LlamaText(answerPlaceholder(index), new SpecialToken("EOS")));
                return;
            }
            const systemPart = index === 0 && system != null && system !== ""
                ? [escapeMarkers(system), new SpecialTokensText("\n\n")]
                : [];
            parts.push(LlamaText(new SpecialTokensText(" [INST] "), ...systemPart, escapeMarkers(message.content), new SpecialTokensText(" [/INST] ")));
        });
        return LlamaText(parts);
    }
};
