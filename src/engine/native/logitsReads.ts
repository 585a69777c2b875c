/**
 * Reading a decode's logits from several libuv workers at once. llama.cpp may finish a batch with
 * its output rows out of order (sequences split into equal ubatches) and puts them back in place on
 * the first logits read after the decode: llama_context::get_logits_ith calls output_reorder(), which
 * swaps whole rows of the buffer and then clears its list of swaps. Two reads that enter it together
 * both swap, and read rows mid-swap: a wrong distribution, now and then, under load (a hellaswag run
 * in CI scored 3 of 7 tasks differently from llama-perplexity on the same file). Once one read has
 * returned, the rows are in place and later reads only read. So the first read of a batch runs alone.
 */

/** Whether two native calls can run at once: libuv's pool has more than one worker (its default is 4). */
export function workersMayOverlap(env: NodeJS.ProcessEnv = process.env): boolean {
    return (env.UV_THREADPOOL_SIZE ?? "4").trim() !== "1";
}

/**
 * Reads every item of a batch, `inFlight` at a time, each on its own slot (`index % inFlight`), and
 * hands the results to `use` in the items' order; the first read runs alone (see above). A slot is
 * free again once its read is used: it takes the item `inFlight` places ahead.
 */
export async function readInOrder<Item, Result>(items: readonly Item[], inFlight: number,
    read: (item: Item, slot: number) => Promise<Result>, use: (item: Item, result: Result) => void): Promise<void> {
    const pending: Promise<Result>[] = [];
    const start = (index: number) => {
        if (index < items.length) pending[index] = read(items[index]!, index % inFlight);
    };
    start(0);
    try {
        for (let index = 0; index < items.length; index++) {
            const result = await pending[index]!;
            // The rows are in place once the first read has returned: the others may overlap.
            if (index === 0) for (let ahead = 1; ahead < inFlight; ahead++) start(ahead);
            use(items[index]!, result);
            start(index + inFlight);
        }
    } finally {
        // A failed use leaves reads running on the native side; they must settle before the next decode.
        await Promise.allSettled(pending);
    }
}
