import {Worker} from "node:worker_threads";
import {InterruptedError} from "../errors.js";

/**
 * A quick read test of CPU RAM, the way decode uses it: each of `threads` workers compares two
 * identical buffers (far larger than any cache) with memcmp a few times — pure streaming reads, as
 * decode streams the weights; a copy would also pay for writes decode does not make. The sum of the
 * workers' best rounds, since a ceiling should be the machine's peak. One thread cannot saturate a
 * multi-channel memory bus, so the caller runs one worker per usable core.
 */
const workerSource = `
const {parentPort, workerData} = require("node:worker_threads");
const first = Buffer.alloc(workerData.bytes, 1);
const second = Buffer.alloc(workerData.bytes, 1); // written whole: page faults are not bandwidth
const shared = new Int32Array(workerData.gate);
parentPort.postMessage("ready");
Atomics.wait(shared, 0, 0);
let best = Infinity;
for (let i = 0; i < workerData.rounds; i++) {
    const started = process.hrtime.bigint();
    if (!first.equals(second)) throw new Error("memory test buffers differ");
    best = Math.min(best, Number(process.hrtime.bigint() - started));
}
parentPort.postMessage(best);
`;

export type MeasureBandwidthOptions = {threads: number, bytesPerThread?: number, rounds?: number, signal?: AbortSignal};

/** Returns GB/s (10^9 bytes per second). */
export async function measureMemoryBandwidth({threads, bytesPerThread = 64 * 1024 * 1024, rounds = 6, signal}: MeasureBandwidthOptions): Promise<number> {
    const gate = new SharedArrayBuffer(4);
    const workers = Array.from({length: Math.max(1, threads)}, () => new Worker(workerSource, {
        eval: true,
        workerData: {bytes: bytesPerThread, rounds, gate}
    }));
    const onAbort = () => void Promise.all(workers.map((worker) => worker.terminate()));
    signal?.addEventListener("abort", onAbort, {once: true});
    try {
        await Promise.all(workers.map(nextMessage));
        // Armed before the gate opens: a worker cannot answer before it is released.
        const finished = Promise.all(workers.map(nextMessage));
        Atomics.store(new Int32Array(gate), 0, 1);
        Atomics.notify(new Int32Array(gate), 0);
        const bestNs = await finished as number[];
        signal?.throwIfAborted();
        // Each worker's best round: a ceiling should not be lowered by a moment of contention.
        return bestNs.reduce((sum, ns) => sum + 2 * bytesPerThread / ns, 0);
    } catch (error) {
        // On Ctrl+C the terminated workers reject with "stopped early": an interruption, not a failure.
        if (signal?.aborted) throw new InterruptedError("The memory bandwidth test was interrupted.", {cause: error});
        throw error;
    } finally {
        signal?.removeEventListener("abort", onAbort);
        await Promise.all(workers.map((worker) => worker.terminate()));
    }
}

function nextMessage(worker: Worker): Promise<unknown> {
    return new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
        worker.once("exit", () => reject(new Error("The memory test worker stopped early.")));
    });
}
