/** The arithmetic mean; 0 for no values. */
export function mean(values: readonly number[]): number {
    if (values.length === 0) return 0;
    let sum = 0;
    for (const value of values) sum += value;
    return sum / values.length;
}

/** The middle value (the mean of the two middle ones for an even count); 0 for none. */
export function median(values: readonly number[]): number {
    if (values.length === 0) return 0;
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The sample standard deviation as llama-bench computes it (n - 1 in the denominator, 0 for a
 * single sample), so that our avg/stddev columns mean the same thing as theirs.
 */
export function sampleStdDev(values: readonly number[]): number {
    if (values.length <= 1) return 0;
    const average = mean(values);
    let squares = 0;
    for (const value of values) squares += (value - average) ** 2;
    return Math.sqrt(squares / (values.length - 1));
}
