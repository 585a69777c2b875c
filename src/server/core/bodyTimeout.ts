/**
 * A request (headers and body) must arrive within this (serve --body-timeout); then it gets 408
 * and its connection is closed. llama-server allows 600 s of silence per read; a body here is at
 * most 4 MB, which even a slow link sends in seconds, and a request that never ends must not hold
 * a connection long. Its own module: the CLI's flag table reads it without loading the server.
 */
export const defaultBodyTimeoutMs = 120_000;
