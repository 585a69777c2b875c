/**
 * What a chart needs to place text without a renderer: an estimate of the width of a run of text,
 * and an axis with round ticks.
 */

/**
 * Width of `text` at `fontSize` in a sans-serif face, on the wide side: DejaVu Sans (Linux's
 * default, and rsvg-convert's) averages about 0.6 em a character in figures and lower case;
 * Helvetica and Arial are narrower. Wide enough is what keeps labels apart and inside the picture.
 */
export function textWidth(text: string, fontSize: number): number {
    return [...text].length * fontSize * 0.62;
}

/** Ticks from 0 to at least `max`, about `count` of them, on 1, 2, 2.5 or 5 × a power of ten. */
export function niceTicks(max: number, count = 5): number[] {
    if (!(max > 0)) return [0, 1];
    const rough = max / count;
    const power = 10 ** Math.floor(Math.log10(rough));
    const step = [1, 2, 2.5, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough) ?? 10 * power;
    const ticks: number[] = [];
    for (let index = 0; ticks.at(-1) == null || (ticks.at(-1) as number) < max - 1e-9 * max; index++) ticks.push(roundTick(index * step));
    return ticks;
}

/** 0.30000000000000004 → 0.3: the tick's own decimals, not a float's. */
function roundTick(value: number): number {
    return Number(value.toPrecision(12));
}

/** A measured rate to about three figures: 1234.5 → "1235", 51.22 → "51.2", 8 → "8.00". */
export function formatRate(value: number): string {
    return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** A tick as people read it: 2.50 → "2.5", 100 → "100". */
export function formatTick(value: number): string {
    return trimZeros(formatRate(value));
}

function trimZeros(text: string): string {
    return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}
