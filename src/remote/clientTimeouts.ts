/**
 * How long a client waits on a server. Without limits a POST never answered, headers followed by
 * silence, or a stream of keep-alive comments that never ends would hold `complete` forever.
 */
export type ClientTimeouts = {
    /** Connecting, the response headers and the first event: a server may hold its headers until
     * the first token (ours does), after a queue and a long prompt on a CPU. */
    firstByteMs: number,
    /** Silence between two events once the answer has started (comments do not count). */
    idleMs: number
};

/**
 * 600 s to start answering: llama-server's own read timeout and the openai SDK's default, long
 * enough for a queued 8k-token prompt on a CPU. 120 s between events: a CPU gives a token a
 * second or faster, and a server that pauses every stream for a long prompt pauses for seconds.
 */
export const defaultClientTimeouts: ClientTimeouts = {firstByteMs: 600_000, idleMs: 120_000};

/** Seconds as a user reads them: "600 s", "0.5 s". */
export function describeSeconds(ms: number): string {
    return `${Number((ms / 1000).toFixed(3))} s`;
}
