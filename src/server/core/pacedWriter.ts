import type {ServerResponse} from "node:http";

/**
 * A streamed answer's frames (SSE blocks, NDJSON lines: the dialect formats them), written paced:
 * a frame written within `intervalMs` of the last write waits for the rest of the interval and goes
 * out with the frames after it, in one write. Why: every write wakes the client, and a client on the
 * same machine as a CPU model that uses every core preempts one of ggml's threads each time; at the
 * small test model's ~200 tokens/s on 2 cores, a write per token made one stream 3–4× slower than
 * `complete` (57 against 184 tok/s); with 30 ms pacing it ran at 0.89–0.99× of `complete`
 * (`npm run bench:serve`). A real Mixtral on a CPU (~10 tokens/s) or a typical GPU (30–60) is
 * slower than the pace, so each of its tokens still goes out on its own, at once.
 */
export class PacedWriter {
    private pending = "";
    private timer: NodeJS.Timeout | undefined;
    /** When the last frame was written; 0: the next one goes out at once (the first text). */
    private lastWriteAt = 0;

    /** Answers 200 with `headers` (the stream's content type) and sends them at once. */
    constructor(private readonly response: ServerResponse, private readonly intervalMs: number, headers: Record<string, string>) {
        response.writeHead(200, {
            ...headers,
            "Cache-Control": "no-cache",
            "Connection": "keep-alive",
            // Proxies (nginx) would otherwise hold the chunks back.
            "X-Accel-Buffering": "no"
        });
        response.flushHeaders();
        response.once("close", () => clearTimeout(this.timer));
    }

    /** Writes a frame, paced; `opening` frames (a chat's role) go out at once and leave the pace to the first text. */
    write(frame: string, {opening = false} = {}) {
        if (this.closed) return;
        this.pending += frame;
        if (opening) return this.flush(false);
        const wait = this.intervalMs - (performance.now() - this.lastWriteAt);
        if (this.lastWriteAt === 0 || wait <= 0) this.flush();
        else this.timer ??= setTimeout(() => this.flush(), wait);
    }

    /** Writes what is held back and `last` (a closing frame), and ends the response. */
    end(last = "") {
        if (this.closed) return;
        clearTimeout(this.timer);
        this.response.end(`${this.pending}${last}`);
        this.pending = "";
    }

    private get closed() {
        return this.response.writableEnded || this.response.destroyed;
    }

    private flush(paced = true) {
        clearTimeout(this.timer);
        this.timer = undefined;
        if (this.pending === "" || this.closed) return;
        this.response.write(this.pending);
        this.pending = "";
        if (paced) this.lastWriteAt = performance.now();
    }
}
