import readline from "node:readline/promises";
import {InterruptedError} from "../../errors.js";

/**
 * A yes/no question on the terminal (asked before a download); Ctrl+C is an interruption, Ctrl+D
 * or a closed stdin a "no". Ask only where the terminal policy's canPrompt allows.
 */
export async function askYesNo(question: string, signal: AbortSignal | undefined): Promise<boolean> {
    const prompt = readline.createInterface({input: process.stdin, output: process.stderr});
    try {
        const answer = await new Promise<string | undefined>((resolve, reject) => {
            // On a terminal readline reads Ctrl+C itself (raw mode, no SIGINT): an interruption, not a "no".
            prompt.once("SIGINT", () => {
                process.stderr.write("\n");
                reject(new InterruptedError("Interrupted; nothing was downloaded."));
            });
            // Ctrl+D or a closed stdin is a "no" (Node 20 leaves question() pending forever on close).
            prompt.once("close", () => resolve(undefined));
            prompt.question(`${question} [y/N] `, {signal}).then(resolve, reject);
        });
        return answer != null && /^y(es)?$/i.test(answer.trim());
    } catch (error) {
        if (error instanceof InterruptedError) throw error;
        if (signal?.aborted === true) throw new InterruptedError("Interrupted; nothing was downloaded.", {cause: error});
        return false;
    } finally {
        prompt.close();
    }
}
