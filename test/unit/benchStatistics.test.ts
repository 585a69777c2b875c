import {describe, expect, it} from "vitest";
import {summarize, tokensPerSecondSamples} from "../../src/bench/statistics.js";
import {mean, sampleStdDev} from "../../src/statistics.js";

describe("bench statistics (llama-bench's avg and stdev)", () => {
    it("uses the sample standard deviation (n - 1), as llama-bench does", () => {
        expect(mean([1, 2, 3, 4])).toBe(2.5);
        expect(sampleStdDev([1, 2, 3, 4])).toBeCloseTo(1.2909944487, 9);
        expect(sampleStdDev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.1380899353, 9);
    });

    it("reports a zero deviation for one sample and a zero mean for none", () => {
        expect(sampleStdDev([42])).toBe(0);
        expect(mean([])).toBe(0);
        expect(sampleStdDev([])).toBe(0);
    });

    it("counts prompt plus generated tokens in every tok/s sample", () => {
        // 24 tokens (pp16+tg8) in 0.5 s and in 0.25 s.
        expect(tokensPerSecondSamples([500_000_000, 250_000_000], 24)).toEqual([48, 96]);
    });

    it("keeps nanoseconds whole and averages tok/s over samples, not over total time", () => {
        const summary = summarize([1_000_000_001, 2_000_000_000], 10);
        expect(summary.avgNs).toBe(1_500_000_000);
        expect(Number.isInteger(summary.stddevNs)).toBe(true);
        expect(summary.stddevNs).toBe(Math.floor(Math.SQRT1_2 * 999_999_999));
        // 10/1.000000001 s and 10/2 s: the mean of rates (7.5), not 20 tokens / 3 s (6.67).
        expect(summary.avgTs).toBeCloseTo(7.5, 6);
        expect(summary.stddevTs).toBeCloseTo(Math.SQRT2 * 2.5, 6);
        expect(summary.samplesTs).toHaveLength(2);
    });
});
