import {describe, expect, it} from "vitest";
import {buildRow} from "../../src/bench/buildRow.js";
import {niceTicks, textWidth} from "../../src/bench/svgAxis.js";
import {renderSvgPlot} from "../../src/bench/svgPlot.js";
import type {BenchInstance, BenchModelInfo, BenchRow, BenchSystemInfo} from "../../src/bench/types.js";

// `bench --plot` read back as a picture: the text's boxes (from the same width estimate, which is on
// the wide side of real fonts), the axis, the bars and their whiskers.
const system: BenchSystemInfo = {buildCommit: "5b4ebc5", buildNumber: 1, cpuInfo: "AMD EPYC", gpuInfo: "", backends: "CPU", nodeLlamaCppVersion: "3.21.1"};
const base: BenchInstance = {model: "", nPrompt: 0, nGen: 0, nDepth: 0, threads: 1, gpuLayers: 0, batchSize: 512, typeK: "f16", typeV: "f16", flashAttention: "auto"};
const modelInfo = (filename: string, typeDescription: string, parameters: number): BenchModelInfo =>
    ({filename, typeDescription, size: parameters / 2, parameters, gpuLayers: 0, layerCount: 32, expertUsedCount: 2});

/** A row of `ts` tok/s whose five repetitions spread by ± `spread` around it. */
function row(model: BenchModelInfo, test: Partial<BenchInstance>, ts: number, spread: number, roofline?: number): BenchRow {
    const instance = {...base, ...test, model: model.filename};
    const tokens = instance.nPrompt + instance.nGen;
    const samplesNs = [-2, -1, 0, 1, 2].map((step) => tokens / (ts * (1 + spread * step / 2)) * 1e9);
    return buildRow(instance, model, system, {samplesNs}, {testTime: new Date(0), bandwidthGBs: roofline == null ? undefined : 100, rooflineTs: roofline});
}

const q4 = modelInfo("mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf", "llama 8x7B Q4_K - Medium", 46.7e9);
const q5 = modelInfo("mixtral-8x7b-instruct-v0.1.Q5_K_M.gguf", "llama 8x7B Q5_K - Medium", 46.7e9);
const small212 = modelInfo("mixtral-212m-q4_0.gguf", "llama ?B Q4_0", 212e6);
const small847 = modelInfo("mixtral-847m-q4_0.gguf", "llama ?B Q4_0", 847e6);

const fixtures: Record<string, BenchRow[]> = {
    "two quants of Mixtral": [
        row(q4, {nPrompt: 512}, 51.2, 0.05), row(q4, {nGen: 128}, 8.0, 0.03, 25.6),
        row(q5, {nPrompt: 512}, 44.1, 0.04), row(q5, {nGen: 128}, 6.7, 0.05, 21)
    ],
    "small models, two of them unsteady": [
        row(small212, {nPrompt: 64}, 487, 0.4), row(small212, {nGen: 32}, 150, 0.15, 917),
        row(small847, {nPrompt: 64}, 115, 0.04), row(small847, {nGen: 32}, 72, 0.6, 276)
    ],
    "one small model at two thread counts, pp+tg and a depth": [
        row(small212, {nPrompt: 16, threads: 1}, 900, 0.05), row(small212, {nPrompt: 16, threads: 2}, 1400, 0.05),
        row(small212, {nPrompt: 16, nGen: 8, nDepth: 512, threads: 2}, 300, 0.1)
    ]
};
fixtures["two quants of Mixtral, compared with a previous run"] = (fixtures["two quants of Mixtral"] ?? []).map((rowOf, index) => ({...rowOf, compare_ratio: [1.08, 0.93, 1.21, 1][index]}));

type Text = {className: string, content: string, x0: number, x1: number, y0: number, y1: number};

function viewBoxOf(svg: string) {
    const [, , width, height] = (/viewBox="([\d. ]+)"/.exec(svg)?.[1] ?? "").split(" ").map(Number);
    return {width: width ?? 0, height: height ?? 0};
}

function textsOf(svg: string): Text[] {
    const fontSize = Number(/<svg [^>]*font-size="(\d+)"/.exec(svg)?.[1]);
    return [...svg.matchAll(/<text x="([\d.-]+)" y="([\d.-]+)" ([^>]*)>([^<]*)<\/text>/g)].map((match) => {
        const [, xText, yText, attributes = "", raw = ""] = match;
        const content = raw.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", "\"").replaceAll("&amp;", "&");
        const size = Number(/font-size="(\d+)"/.exec(attributes)?.[1] ?? fontSize);
        const width = textWidth(content, size);
        const anchor = /text-anchor="(\w+)"/.exec(attributes)?.[1] ?? "start";
        const x = Number(xText);
        const x0 = anchor === "end" ? x - width : anchor === "middle" ? x - width / 2 : x;
        return {className: /class="([\w-]+)"/.exec(attributes)?.[1] ?? "", content, x0, x1: x0 + width, y0: Number(yText) - size * 0.8, y1: Number(yText) + size * 0.25};
    });
}

const overlap = (a: Text, b: Text) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/** Each bar with its whisker's ends and the figures after it, in drawing order. */
function barsOf(svg: string) {
    const widths = [...svg.matchAll(/<rect class="bar" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((match) => Number(match[2]));
    const whiskers = [...svg.matchAll(/<path class="whisker" d="M([\d.]+) [\d.]+v8M[\d.]+ [\d.]+H([\d.]+)/g)].map((match) => ({low: Number(match[1]), high: Number(match[2])}));
    const values = textsOf(svg).filter((text) => text.className === "value-label");
    const previousEnds = [...svg.matchAll(/<rect class="previous" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((match) => Number(match[1]) + Number(match[2]));
    return widths.map((width, index) => ({width, whisker: whiskers[index]!, value: values[index]!, previousEnd: previousEnds.length === widths.length ? previousEnds[index]! : 0}));
}

describe("the bench chart", () => {
    for (const [name, rows] of Object.entries(fixtures)) {
        it(`${name}: every text inside the picture, none over another`, () => {
            const svg = renderSvgPlot(rows);
            const {width, height} = viewBoxOf(svg);
            const texts = textsOf(svg);
            expect(texts.length).toBeGreaterThan(10);
            for (const text of texts) {
                expect(text.x0, text.content).toBeGreaterThanOrEqual(0);
                expect(text.x1, text.content).toBeLessThanOrEqual(width);
                expect(text.y0, text.content).toBeGreaterThanOrEqual(0);
                expect(text.y1, text.content).toBeLessThanOrEqual(height);
            }
            for (const [index, a] of texts.entries())
                for (const b of texts.slice(index + 1)) expect(overlap(a, b), `"${a.content}" and "${b.content}"`).toBe(false);
        });

        it(`${name}: a numeric tok/s axis with ticks under each panel, figures right after each whisker`, () => {
            const svg = renderSvgPlot(rows);
            const texts = textsOf(svg);
            const panels = texts.filter((text) => text.className === "panel-title").length;
            expect(texts.filter((text) => text.content === "tokens per second (t/s)")).toHaveLength(panels);
            const ticks = texts.filter((text) => text.className === "tick-label");
            expect(ticks.length).toBeGreaterThanOrEqual(3 * panels);
            expect(ticks.every((tick) => /^\d+(\.\d+)?$/.test(tick.content))).toBe(true);
            expect(svg.match(/class="tick"/g)).toHaveLength(ticks.length);
            const rowLabelsEnd = Math.max(...texts.filter((text) => text.className === "row-label").map((text) => text.x1));
            for (const {whisker, value, previousEnd} of barsOf(svg)) {
                // The whisker stays between the row labels and its figures, which follow it (or the previous run's bar) closely.
                expect(whisker.low).toBeGreaterThan(rowLabelsEnd);
                expect(value.x0).toBeGreaterThan(Math.max(whisker.high, previousEnd));
                expect(value.x0 - Math.max(whisker.high, previousEnd)).toBeLessThan(10);
            }
        });
    }

    it("puts pp and tg on two panels, each with its own scale", () => {
        const svg = renderSvgPlot(fixtures["two quants of Mixtral"] ?? []);
        const texts = textsOf(svg);
        expect(texts.filter((text) => text.className === "panel-title").map((text) => text.content)).toEqual(["Prompt processing (pp)", "Generation (tg)"]);
        const axisEnds = [...svg.matchAll(/<line class="axis" x1="([\d.]+)" x2="([\d.]+)"/g)];
        expect(axisEnds).toHaveLength(2);
        const tickLabels = texts.filter((text) => text.className === "tick-label").map((text) => Number(text.content));
        // pp reaches 60 t/s, tg (with its rooflines near 25) 30.
        expect(Math.max(...tickLabels)).toBe(60);
        expect(tickLabels).toContain(30);
        expect(svg.match(/class="roofline"/g)).toHaveLength(2);
    });

    it("a small model's bars are not slivers: a roofline far beyond them is named, not drawn", () => {
        const svg = renderSvgPlot(fixtures["small models, two of them unsteady"] ?? []);
        const axis = [...svg.matchAll(/<line class="axis" x1="([\d.]+)" x2="([\d.]+)"/g)].map((match) => Number(match[2]) - Number(match[1]));
        const bars = barsOf(svg);
        // The longest bar of each panel fills most of its axis.
        expect(Math.max(bars[0]!.width, bars[1]!.width) / axis[0]!).toBeGreaterThan(0.5);
        expect(Math.max(bars[2]!.width, bars[3]!.width) / axis[1]!).toBeGreaterThan(0.4);
        // 917 t/s is 6× the 212M model's 150: in its label; the 847M model's 276 is drawn.
        expect(svg).toContain("150 ± ");
        expect(svg).toMatch(/· 16% of roofline 917</);
        expect(svg.match(/class="roofline"/g)).toHaveLength(1);
    });

    it("marks unsteady rows (!) and draws the previous run of --compare, with legend entries", () => {
        const unsteady = renderSvgPlot(fixtures["small models, two of them unsteady"] ?? []);
        const values = textsOf(unsteady).filter((text) => text.className === "value-label").map((text) => text.content);
        expect(values.filter((value) => / t\/s !/.test(value))).toHaveLength(2);
        expect(unsteady.match(/fill="url\(#unsteady\)"/g)?.length).toBe(3);
        expect(unsteady).toContain("! spread above 25% of the mean: not a steady figure");

        const compared = renderSvgPlot(fixtures["two quants of Mixtral, compared with a previous run"] ?? []);
        expect(compared.match(/<rect class="previous"/g)).toHaveLength(4);
        expect(compared).toContain("51.2 ± ");
        expect(compared).toMatch(/· 1\.08× previous</);
        expect(compared).toContain("previous run (--compare)");
        expect(renderSvgPlot(fixtures["two quants of Mixtral"] ?? [])).not.toContain("previous");
    });

    it("names rows by model, test and the settings that differ; one model once, above the chart", () => {
        const texts = textsOf(renderSvgPlot(fixtures["one small model at two thread counts, pp+tg and a depth"] ?? []));
        expect(texts.filter((text) => text.className === "row-label").map((text) => text.content)).toEqual([
            "pp16 · 1 thread", "pp16 · 2 threads", "pp16+tg8 @ d512 · 2 threads"
        ]);
        expect(texts.find((text) => text.className === "subtitle")?.content).toBe("llama 212M Q4_0 · CPU · AMD EPYC · build 5b4ebc5 (1)");
        const twoModels = textsOf(renderSvgPlot(fixtures["small models, two of them unsteady"] ?? []));
        expect(twoModels.filter((text) => text.className === "row-label").map((text) => text.content)).toEqual([
            "llama 212M Q4_0 · pp64", "llama 847M Q4_0 · pp64", "llama 212M Q4_0 · tg32", "llama 847M Q4_0 · tg32"
        ]);
    });

    it("chooses round ticks", () => {
        expect(niceTicks(51.2 * 1.05)).toEqual([0, 20, 40, 60]);
        expect(niceTicks(25.6)).toEqual([0, 10, 20, 30]);
        expect(niceTicks(0.7)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
        expect(niceTicks(917)).toEqual([0, 200, 400, 600, 800, 1000]);
    });
});
