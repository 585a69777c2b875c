/** A conversation's messages, as chat, its saved files and every API dialect hold them. */

export type ChatRole = "user" | "assistant";
export type ChatMessage = {role: ChatRole, content: string};

/** The system text and the messages: what one chat request asks an answer to. */
export type ChatTranscript = {system?: string, messages: readonly ChatMessage[]};

/** A blank system text is none. */
export function emptyToUndefined(text: string | undefined): string | undefined {
    return text == null || text.trim() === "" ? undefined : text;
}

/**
 * An answer's text as it streams, without the whitespace it opens with: Mistral's format puts a
 * space after "[/INST]" that is the answer's first token ("▁Because"), and servers send it too.
 */
export function withoutOpeningWhitespace(onText: ((chunk: string) => void) | undefined): (chunk: string) => void {
    let opened = false;
    return (chunk) => {
        if (!opened) chunk = chunk.trimStart();
        if (chunk === "") return;
        opened = true;
        onText?.(chunk);
    };
}
