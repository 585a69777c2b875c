import {promptTooLongError} from "../../engine/index.js";
import {toHttpError} from "./engineErrors.js";

/**
 * Refuses a list of more messages than a sequence has tokens before a dialect reads them one by one
 * (60,000 messages took a quarter of a second to read, on top of rendering them): every message is
 * at least one token of the prompt. Anything but a list is left to the dialect's own refusal.
 */
export function checkMessageCount(messages: unknown, contextSize: number, param = "messages"): void {
    if (Array.isArray(messages) && messages.length > contextSize - 2)
        throw toHttpError(promptTooLongError(`at least ${messages.length}`, contextSize), param);
}
