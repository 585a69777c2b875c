import {testName} from "./buildRow.js";
import {modelLabel} from "./printers/columns.js";
import {formatRate, formatTick, niceTicks, textWidth} from "./svgAxis.js";
import type {BenchRow} from "./types.js";

/**
 * A dependency-free SVG chart of a run: one panel per kind of test (prompt processing, generation,
 * both), each with its own tok/s axis — pp is often 10–100× faster than tg and would flatten it on
 * one scale. A bar per row (the mean, a whisker of ± one standard deviation), its figures right
 * after the whisker, the roofline of tg rows as a dashed red mark, the previous run of --compare as
 * a thin grey bar, and unsteady rows (`!`) hatched. Text positions come from a width estimate on the
 * wide side, so labels stay apart and inside the picture in any sans-serif face.
 */
const style = {
    font: 12, titleFont: 15, panelFont: 13, margin: 16, minWidth: 960, minPlotWidth: 260,
    bar: 14, previousBar: 4, rowGap: 9, labelGap: 10, valueGap: 6, legendRow: 20, axisHeight: 44
};
const color = {bar: "#4c78a8", unsteady: "#a9c1dc", previous: "#8c8c8c", roofline: "#d62728", ink: "#222", dim: "#666", grid: "#e6e6e6"};

/**
 * A roofline further out than this many times the panel's longest bar is named in the bar's label
 * rather than drawn: on a small model the ceiling is 5–15× the measured speed, and an axis that
 * reached it would shrink every bar to a sliver. Mixtral on a CPU reaches about a third of it: drawn.
 */
const rooflineInScale = 3.5;

type Kind = "pp" | "tg" | "pg";
const panelTitles: Record<Kind, string> = {
    pp: "Prompt processing (pp)",
    tg: "Generation (tg)",
    pg: "Prompt processing and generation together (pp+tg)"
};

function kindOf(row: BenchRow): Kind {
    return row.n_gen === 0 ? "pp" : row.n_prompt === 0 ? "tg" : "pg";
}

/** The previous run's tok/s for --compare: this row's ÷ the ratio. */
function previousTs(row: BenchRow): number | undefined {
    return row.compare_ratio != null && row.compare_ratio > 0 ? row.avg_ts / row.compare_ratio : undefined;
}

/**
 * "llama 212M Q4_0 · tg32", plus the settings that differ between the rows of the run; a run of one
 * model names it once, above the chart, and its rows by test alone.
 */
function rowLabeler(rows: readonly BenchRow[]): (row: BenchRow) => string {
    const varies = (field: (row: BenchRow) => unknown) => new Set(rows.map(field)).size > 1;
    const parts: ((row: BenchRow) => string)[] = varies(modelLabel) ? [modelLabel, testName] : [testName];
    if (varies((row) => row.n_threads)) parts.push((row) => `${row.n_threads} thread${row.n_threads === 1 ? "" : "s"}`);
    if (varies((row) => row.n_gpu_layers) || rows.some((row) => row.n_gpu_layers > 0)) parts.push((row) => `ngl ${row.n_gpu_layers}`);
    if (varies((row) => row.n_batch)) parts.push((row) => `batch ${row.n_batch}`);
    if (varies((row) => `${row.type_k}/${row.type_v}`)) parts.push((row) => `KV ${row.type_k === row.type_v ? row.type_k : `${row.type_k}/${row.type_v}`}`);
    if (varies((row) => row.flash_attn)) parts.push((row) => `fa ${row.flash_attn === -1 ? "auto" : row.flash_attn === 1 ? "on" : "off"}`);
    if (varies((row) => row.n_expert_used)) parts.push((row) => `${row.n_expert_used} experts`);
    return (row) => parts.map((part) => part(row)).join(" · ");
}

/** "150 ± 9.28 t/s ! · 16% of roofline 917 · 1.04× previous" */
function valueLabel(row: BenchRow, rooflineDrawn: boolean): string {
    let text = `${formatRate(row.avg_ts)} ± ${formatRate(row.stddev_ts)} t/s${row.high_spread ? " !" : ""}`;
    if (row.roofline_pct != null && row.roofline_ts != null)
        text += ` · ${row.roofline_pct.toFixed(0)}% of roofline${rooflineDrawn ? "" : ` ${formatRate(row.roofline_ts)}`}`;
    if (row.compare_ratio != null) text += ` · ${row.compare_ratio.toFixed(2)}× previous`;
    return text;
}

type PanelRow = {row: BenchRow, label: string, value: string, rooflineDrawn: boolean, end: number};
type Panel = {kind: Kind, rows: PanelRow[], ticks: number[], axisMax: number};

function panelOf(kind: Kind, rows: BenchRow[], label: (row: BenchRow) => string): Panel {
    const ends = rows.map((row) => Math.max(row.avg_ts + row.stddev_ts, previousTs(row) ?? 0));
    const longest = Math.max(...ends);
    const drawn = rows.map((row) => row.roofline_ts != null && row.roofline_ts <= rooflineInScale * longest);
    const dataMax = Math.max(longest, ...rows.map((row, index) => drawn[index] ? row.roofline_ts ?? 0 : 0));
    const ticks = niceTicks(dataMax);
    return {
        kind, ticks, axisMax: ticks.at(-1) as number,
        rows: rows.map((row, index) => ({row, label: label(row), value: valueLabel(row, drawn[index] === true), rooflineDrawn: drawn[index] === true, end: ends[index] as number}))
    };
}

function escapeXml(text: string): string {
    return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("\"", "&quot;");
}

function text(x: number, y: number, content: string, attributes: string): string {
    return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escapeXml(content)}</text>`;
}

export function renderSvgPlot(rows: readonly BenchRow[], title = "mixtral bench: tokens per second"): string {
    const label = rowLabeler(rows);
    const kinds: Kind[] = ["pp", "tg", "pg"];
    const panels = kinds.map((kind) => [kind, rows.filter((row) => kindOf(row) === kind)] as const)
        .filter(([, kindRows]) => kindRows.length > 0)
        .map(([kind, kindRows]) => panelOf(kind, kindRows, label));
    const all = panels.flatMap((panel) => panel.rows);

    // Horizontal layout: row labels right-aligned before the bars; one plot width for every panel,
    // as wide as the picture allows once each bar's figures fit after its whisker.
    const left = style.margin + Math.max(0, ...all.map((row) => textWidth(row.label, style.font))) + style.labelGap;
    const room = style.minWidth - style.margin - left;
    const fitting = panels.flatMap((panel) => panel.rows.map((row) =>
        (room - style.valueGap - textWidth(row.value, style.font)) / (row.end / panel.axisMax)));
    const lastTickHalf = Math.max(...panels.map((panel) => textWidth(formatTick(panel.axisMax), style.font) / 2));
    const plotWidth = Math.max(style.minPlotWidth, Math.min(room - lastTickHalf, ...fitting));
    const width = Math.ceil(Math.max(style.minWidth, left + plotWidth + lastTickHalf + style.margin,
        ...panels.flatMap((panel) => panel.rows.map((row) =>
            left + row.end / panel.axisMax * plotWidth + style.valueGap + textWidth(row.value, style.font) + style.margin))));

    const parts: string[] = [];
    let y = style.margin + style.titleFont;
    parts.push(text(style.margin, y, title, `class="title" font-size="${style.titleFont}" font-weight="bold"`));
    const first = rows[0];
    if (first != null) {
        y += 18;
        const oneModel = rows.every((row) => modelLabel(row) === modelLabel(first)) ? `${modelLabel(first)} · ` : "";
        parts.push(text(style.margin, y, `${oneModel}${first.backends} · ${first.cpu_info}${first.gpu_info === "" ? "" : ` · ${first.gpu_info}`} · build ${first.build_commit} (${first.build_number})`,
            `class="subtitle" fill="${color.dim}"`));
    }
    y += 12;
    y = legend(parts, rows, all, y, width);

    for (const panel of panels) {
        y += 14;
        parts.push(text(style.margin, y + style.panelFont, panelTitles[panel.kind], `class="panel-title" font-size="${style.panelFont}" font-weight="bold"`));
        y += style.panelFont + 12;
        const top = y;
        const x = (value: number) => left + Math.max(0, value) / panel.axisMax * plotWidth;
        const body: string[] = [];
        const labels: string[] = [];
        for (const {row, label: rowText, value, rooflineDrawn, end} of panel.rows) {
            const previous = previousTs(row);
            const middle = y + style.bar / 2;
            body.push(text(left - style.labelGap, y + style.bar * 0.8, rowText, `class="row-label" text-anchor="end"`));
            body.push(`<rect class="bar" x="${left}" y="${y}" width="${(x(row.avg_ts) - left).toFixed(1)}" height="${style.bar}" fill="${row.high_spread ? "url(#unsteady)" : color.bar}">` +
                `<title>${escapeXml(`${row.avg_ts.toFixed(2)} ± ${row.stddev_ts.toFixed(2)} t/s`)}</title></rect>`);
            if (previous != null)
                body.push(`<rect class="previous" x="${left}" y="${y + style.bar + 1}" width="${(x(previous) - left).toFixed(1)}" height="${style.previousBar}" fill="${color.previous}">` +
                    `<title>previous run: ${escapeXml(previous.toFixed(2))} t/s</title></rect>`);
            const low = x(row.avg_ts - row.stddev_ts);
            const high = x(row.avg_ts + row.stddev_ts);
            body.push(`<path class="whisker" d="M${low.toFixed(1)} ${middle - 4}v8M${low.toFixed(1)} ${middle}H${high.toFixed(1)}M${high.toFixed(1)} ${middle - 4}v8" stroke="${color.ink}" fill="none"/>`);
            if (rooflineDrawn && row.roofline_ts != null)
                body.push(`<line class="roofline" x1="${x(row.roofline_ts).toFixed(1)}" x2="${x(row.roofline_ts).toFixed(1)}" y1="${y - 3}" y2="${y + style.bar + 3}" ` +
                    `stroke="${color.roofline}" stroke-width="2" stroke-dasharray="4 2"><title>roofline ${escapeXml(row.roofline_ts.toFixed(2))} t/s</title></line>`);
            // On white, so a roofline mark or a grid line passing behind the figures leaves them whole.
            labels.push(`<rect class="label-backdrop" x="${(x(end) + style.valueGap - 2).toFixed(1)}" y="${y + 1}" ` +
                `width="${(textWidth(value, style.font) + 4).toFixed(1)}" height="${style.bar - 1}" fill="#fff"/>`);
            labels.push(text(x(end) + style.valueGap, y + style.bar * 0.8, value, `class="value-label"`));
            y += style.bar + (previous != null ? style.previousBar + 1 : 0) + style.rowGap;
        }
        // Grid first, so bars and labels lie over it.
        for (const tick of panel.ticks)
            parts.push(`<line class="grid" x1="${x(tick).toFixed(1)}" x2="${x(tick).toFixed(1)}" y1="${top - 4}" y2="${y}" stroke="${color.grid}"/>`);
        parts.push(...body, ...labels);
        parts.push(`<line class="axis" x1="${left}" x2="${(left + plotWidth).toFixed(1)}" y1="${y}" y2="${y}" stroke="${color.ink}"/>`);
        for (const tick of panel.ticks) {
            parts.push(`<line class="tick" x1="${x(tick).toFixed(1)}" x2="${x(tick).toFixed(1)}" y1="${y}" y2="${y + 5}" stroke="${color.ink}"/>`);
            parts.push(text(x(tick), y + 18, formatTick(tick), `class="tick-label" text-anchor="middle"`));
        }
        parts.push(text(left + plotWidth / 2, y + 36, "tokens per second (t/s)", `class="axis-title" text-anchor="middle" fill="${color.dim}"`));
        y += style.axisHeight;
    }
    const height = Math.ceil(y + style.margin);
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${style.font}" fill="${color.ink}">`,
        `<defs><pattern id="unsteady" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
            `<rect width="6" height="6" fill="${color.unsteady}"/><rect width="3" height="6" fill="${color.bar}"/></pattern></defs>`,
        `<rect width="100%" height="100%" fill="#fff"/>`,
        ...parts,
        `</svg>`,
        ""
    ].join("\n");
}

/** The legend under the title, one swatch and sentence an item, wrapped to the picture's width; returns the y below it. */
function legend(parts: string[], rows: readonly BenchRow[], all: readonly PanelRow[], top: number, width: number): number {
    const items: {swatch: string, text: string}[] = [
        {swatch: `<rect x="0" y="-9" width="16" height="10" fill="${color.bar}"/><path d="M2 -4H14M2 -8v8M14 -8v8" stroke="${color.ink}" fill="none"/>`,
            text: "mean of the repetitions, whisker ± 1 standard deviation"}
    ];
    if (all.some((row) => row.rooflineDrawn))
        items.push({swatch: `<line x1="8" x2="8" y1="-11" y2="3" stroke="${color.roofline}" stroke-width="2" stroke-dasharray="4 2"/>`,
            text: "roofline: memory bandwidth ÷ bytes read a token"});
    if (rows.some((row) => row.high_spread))
        items.push({swatch: `<rect x="0" y="-9" width="16" height="10" fill="url(#unsteady)"/>`, text: "! spread above 25% of the mean: not a steady figure"});
    if (rows.some((row) => row.compare_ratio != null))
        items.push({swatch: `<rect x="0" y="-6" width="16" height="${style.previousBar}" fill="${color.previous}"/>`, text: "previous run (--compare)"});
    let x = style.margin;
    let y = top + style.legendRow - 6;
    for (const item of items) {
        const itemWidth = 22 + textWidth(item.text, style.font);
        if (x > style.margin && x + itemWidth > width - style.margin) {
            x = style.margin;
            y += style.legendRow;
        }
        parts.push(`<g class="legend" transform="translate(${x.toFixed(1)} ${y})">${item.swatch}</g>`);
        parts.push(text(x + 22, y, item.text, `class="legend-label"`));
        x += itemWidth + 24;
    }
    return y + 6;
}
