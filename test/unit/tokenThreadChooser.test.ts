import {describe, expect, test} from "vitest";
import {TokenThreadChooser} from "../../src/engine/directTokenLoop.js";

/** Feeds the chooser decode times by thread count until it decides (or the samples run out). */
function decide(timesMs: {one: number[], many: number[]}, threads = 2) {
    const chooser = new TokenThreadChooser(threads);
    const remaining = {one: [...timesMs.one], many: [...timesMs.many]};
    const used: number[] = [];
    for (let step = 0; step < 20 && chooser.choice == null; step++) {
        const count = chooser.next();
        used.push(count);
        // The first decode is the untimed warm-up.
        const ms = step === 0 ? 1 : (count === 1 ? remaining.one : remaining.many).shift() ?? 1;
        chooser.record(count, ms);
    }
    return {choice: chooser.choice, used};
}

describe("choosing the thread count for generated tokens", () => {
    test("one multi-thread token far slower than every 1-thread token settles on 1 thread at once", () => {
        const {choice, used} = decide({one: [0.2], many: [12]});
        expect(choice).toBe(1);
        expect(used).toEqual([1, 1, 2]);
    });

    test("all of the many-thread samples beating all 1-thread samples keeps the many threads", () => {
        expect(decide({one: [4, 4.2, 4.1], many: [2.5, 2.6, 2.4]}, 8).choice).toBe(8);
    });

    test("overlapping samples fall back to 1 thread, the safe choice for small models", () => {
        expect(decide({one: [3, 3.5, 4], many: [2.5, 3.8, 2.6]}).choice).toBe(1);
    });

    test("a decision made earlier for the context is used without probing", () => {
        const chooser = new TokenThreadChooser(4, 4);
        expect(chooser.choice).toBe(4);
        expect(chooser.next()).toBe(4);
    });
});
