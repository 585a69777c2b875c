import {describe, expect, test} from "vitest";
import {readInOrder, workersMayOverlap} from "../../src/engine/native/logitsReads.js";

/** Reads that finish when the test says, recording which started when. */
function controlledReads() {
    const started: number[] = [];
    const finish = new Map<number, (value: string) => void>();
    const read = (item: number, slot: number) => {
        started.push(item);
        expect(slot).toBe(item % 4);
        return new Promise<string>((resolve) => finish.set(item, resolve));
    };
    const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
    return {started, finish, read, settle};
}

describe("reading a batch's logits from several workers", () => {
    test("the first read runs alone (llama.cpp puts reordered rows back on it), then up to inFlight overlap, used in order", async () => {
        const {started, finish, read, settle} = controlledReads();
        const used: string[] = [];
        const done = readInOrder([0, 1, 2, 3, 4, 5], 4, read, (item, result) => used.push(`${item}=${result}`));
        await settle();
        expect(started).toEqual([0]);
        finish.get(0)!("a");
        await settle();
        // Items 1–3 on the other slots, and 4 on slot 0, which item 0 has just freed.
        expect(started).toEqual([0, 1, 2, 3, 4]);
        // Out of order on the native side, in order to `use`.
        finish.get(3)!("d");
        finish.get(2)!("c");
        await settle();
        expect(used).toEqual(["0=a"]);
        finish.get(1)!("b");
        await settle();
        expect(used).toEqual(["0=a", "1=b", "2=c", "3=d"]);
        expect(started).toEqual([0, 1, 2, 3, 4, 5]);
        finish.get(4)!("e");
        finish.get(5)!("f");
        await done;
        expect(used).toEqual(["0=a", "1=b", "2=c", "3=d", "4=e", "5=f"]);
    });

    test("a use that throws still waits for the reads in flight before the next decode may start", async () => {
        const {finish, read, settle} = controlledReads();
        let settled = false;
        const done = readInOrder([0, 1, 2], 4, read, () => {
            throw new Error("bad read");
        }).finally(() => settled = true);
        await settle();
        finish.get(0)!("a");
        await settle();
        expect(settled).toBe(false);
        finish.get(1)!("b");
        finish.get(2)!("c");
        await expect(done).rejects.toThrow("bad read");
    });

    test("an empty batch reads nothing", async () => {
        const {started, read} = controlledReads();
        await readInOrder([], 4, read, () => {});
        expect(started).toEqual([]);
    });

    test("workers overlap unless libuv's pool has one (its default is 4)", () => {
        expect(workersMayOverlap({})).toBe(true);
        expect(workersMayOverlap({UV_THREADPOOL_SIZE: "4"})).toBe(true);
        expect(workersMayOverlap({UV_THREADPOOL_SIZE: "1"})).toBe(false);
    });
});
