import {UsageError} from "../../errors.js";

/** complete's --logprobs n as the sampling's `logprobs`: only --json can print them, so it asks for --json. */
export function logprobsOption(options: {logprobs?: number, json?: boolean}): {logprobs?: number} {
    if (options.logprobs == null) return {};
    if (options.json !== true) throw new UsageError("--logprobs adds each token's log-probability to the JSON output: add --json.");
    return {logprobs: options.logprobs};
}
