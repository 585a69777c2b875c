import {describe, expect, test} from "vitest";
import type {Llama, LlamaOptions} from "node-llama-cpp";
import {createBenchEngine} from "../../src/engine/bench/benchmark.js";

// bench without -t: llama-bench's default is one thread per math core (cpu_get_num_math()), as
// `complete` uses; os.availableParallelism also counts hyper-threads and efficiency cores.

/** The parts of node-llama-cpp's Llama that loading reads: the math cores it counted, its threads. */
function llamaWith(mathCores: number, asked: LlamaOptions[]) {
    return async (options: LlamaOptions): Promise<Llama> => {
        asked.push(options);
        let maxThreads = options.maxThreads ?? 0;
        return {
            gpu: false,
            cpuMathCores: mathCores,
            get maxThreads() { return maxThreads; },
            set maxThreads(value: number) { maxThreads = value; },
            dispose: async () => {}
        } as unknown as Llama;
    };
}

describe("bench's default thread count", () => {
    test("an 8-core CPU with hyper-threads (16 usable) runs 8 threads, as llama-bench would", async () => {
        const asked: LlamaOptions[] = [];
        const engine = await createBenchEngine({gpu: "cpu", native: {getLlama: llamaWith(8, asked), env: {}, usableCores: () => 16}});
        expect(engine.defaultThreads).toBe(8);
    });

    test("an M2 Max (8 performance + 4 efficiency cores) runs 8", async () => {
        const engine = await createBenchEngine({gpu: "cpu", native: {getLlama: llamaWith(8, []), env: {}, usableCores: () => 12}});
        expect(engine.defaultThreads).toBe(8);
    });

    test("a container's quota below the math cores still caps it; MIXTRAL_THREADS still wins", async () => {
        expect((await createBenchEngine({gpu: "cpu", native: {getLlama: llamaWith(8, []), env: {}, usableCores: () => 2}})).defaultThreads).toBe(2);
        expect((await createBenchEngine({gpu: "cpu", native: {getLlama: llamaWith(8, []), env: {MIXTRAL_THREADS: "3"}, usableCores: () => 16}})).defaultThreads).toBe(3);
    });

    test("-t given: the binding gets the largest count and keeps it", async () => {
        const asked: LlamaOptions[] = [];
        const engine = await createBenchEngine({gpu: "cpu", maxThreads: 12, native: {getLlama: llamaWith(8, asked), env: {}, usableCores: () => 16}});
        expect(asked.map((options) => options.maxThreads)).toEqual([12]);
        expect(engine.defaultThreads).toBe(12);
    });
});
