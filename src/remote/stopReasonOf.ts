import type {StopReason} from "../generator/result.js";
import type {CompletionOutcome} from "./openAiClient.js";

/**
 * OpenAI's finish_reason says less than our stopReason: "stop" covers both the end-of-sequence
 * token and a --stop string, "length" both --max-tokens and a full context. vLLM (and our server)
 * add stop_reason: the stop string that matched, else null. Without it (llama-server, Ollama),
 * "stop" is reported as a stop string whenever some were sent: the server cannot tell us more.
 */
export function stopReasonOf(outcome: CompletionOutcome, sentStopStrings: boolean): StopReason {
    if (outcome.aborted) return "abort";
    switch (outcome.finishReason) {
        case "length":
            return "maxTokens";
        case "stop":
            if (typeof outcome.stopDetail === "string") return "stop";
            if (outcome.stopDetail !== undefined) return "eos";
            return sentStopStrings ? "stop" : "eos";
        default:
            // "content_filter", "tool_calls" or none: the server ended the answer on its own.
            return "eos";
    }
}
