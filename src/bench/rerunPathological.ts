import type {BenchInstance, BenchLoadedModel, InstanceTimings, RunInstanceOptions} from "./types.js";
import {repetitionsToRerun} from "./unsteadySamples.js";

/**
 * Runs each pathological repetition (see unsteadySamples.ts) once more, in a fresh context as any
 * repetition of its own would be, and puts the new sample in its place. The replaced samples are
 * kept in `rerunSamplesNs`, so the output can say what was dropped and nothing is silently lost.
 */
export async function rerunPathologicalRepetitions(
    model: BenchLoadedModel,
    instance: BenchInstance,
    timings: InstanceTimings,
    options: RunInstanceOptions
): Promise<InstanceTimings> {
    const rerun = repetitionsToRerun(timings.samplesNs);
    if (rerun.length === 0) return timings;
    const samplesNs = [...timings.samplesNs];
    const rerunSamplesNs: number[] = [];
    for (const index of rerun) {
        options.onStep?.(`rep ${index + 1}/${samplesNs.length} was far slower than the others: running it again`);
        const again = await model.run(instance, {...options, repetitions: 1, e2e: false});
        const ns = again.samplesNs[0];
        if (ns == null) continue;
        rerunSamplesNs.push(samplesNs[index]!);
        samplesNs[index] = ns;
    }
    return {...timings, samplesNs, rerunSamplesNs};
}
