import {testName} from "./buildRow.js";
import type {BenchRow} from "./types.js";

/**
 * A dependency-free SVG chart: one horizontal bar per row (tok/s, with ± one standard deviation),
 * grouped by test so quants line up, and the roofline of tg rows marked with a dashed red line.
 * Each test gets its own scale: pp is often 10–100× faster than tg and would flatten it otherwise.
 */
const layout = {width: 900, labelWidth: 300, barHeight: 18, gap: 6, groupGap: 28, top: 48, right: 90};

function escapeXml(text: string): string {
    return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("\"", "&quot;");
}

function label(row: BenchRow): string {
    const file = row.model_filename.split(/[\\/]/).pop() ?? row.model_filename;
    return `${file} (${row.quant}) · ${row.n_threads}t${row.n_gpu_layers > 0 ? ` · ngl ${row.n_gpu_layers}` : ""}`;
}

export function renderSvgPlot(rows: readonly BenchRow[], title = "mixtral bench: tokens per second"): string {
    const groups = new Map<string, BenchRow[]>();
    for (const row of rows) {
        const name = testName(row);
        groups.set(name, [...(groups.get(name) ?? []), row]);
    }
    const plotWidth = layout.width - layout.labelWidth - layout.right;
    const parts: string[] = [];
    let y = layout.top;
    for (const [name, groupRows] of groups) {
        const scaleMax = Math.max(1e-9, ...groupRows.map((row) => Math.max(row.avg_ts + row.stddev_ts, row.roofline_ts ?? 0)));
        const x = (value: number) => layout.labelWidth + value / scaleMax * plotWidth;
        parts.push(`<text x="10" y="${y}" font-weight="bold">${escapeXml(name)}</text>`);
        y += layout.gap + 4;
        for (const row of groupRows) {
            const barEnd = x(row.avg_ts);
            parts.push(
                `<text x="${layout.labelWidth - 8}" y="${y + layout.barHeight * 0.72}" text-anchor="end">${escapeXml(label(row))}</text>`,
                `<rect x="${layout.labelWidth}" y="${y}" width="${(barEnd - layout.labelWidth).toFixed(1)}" height="${layout.barHeight}" fill="#4c78a8"><title>${row.avg_ts.toFixed(2)} ± ${row.stddev_ts.toFixed(2)} t/s</title></rect>`,
                `<line x1="${x(row.avg_ts - row.stddev_ts).toFixed(1)}" x2="${x(row.avg_ts + row.stddev_ts).toFixed(1)}" y1="${y + layout.barHeight / 2}" y2="${y + layout.barHeight / 2}" stroke="#222"/>`,
                `<text x="${(Math.max(barEnd, x(row.roofline_ts ?? 0)) + 6).toFixed(1)}" y="${y + layout.barHeight * 0.72}">${row.avg_ts.toFixed(2)}${row.roofline_pct == null ? "" : ` (${row.roofline_pct.toFixed(0)}%)`}</text>`
            );
            if (row.roofline_ts != null)
                parts.push(`<line class="roofline" x1="${x(row.roofline_ts).toFixed(1)}" x2="${x(row.roofline_ts).toFixed(1)}" y1="${y - 2}" y2="${y + layout.barHeight + 2}" stroke="#d62728" stroke-width="2" stroke-dasharray="4 2"><title>roofline ${row.roofline_ts.toFixed(2)} t/s</title></line>`);
            y += layout.barHeight + layout.gap;
        }
        y += layout.groupGap - layout.gap;
    }
    const height = y + 10;
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${height}" viewBox="0 0 ${layout.width} ${height}" font-family="sans-serif" font-size="12">`,
        `<rect width="100%" height="100%" fill="#fff"/>`,
        `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
        `<line x1="${layout.width - 250}" x2="${layout.width - 236}" y1="18" y2="18" stroke="#d62728" stroke-width="2" stroke-dasharray="4 2"/>`,
        `<text x="${layout.width - 230}" y="22">roofline (bandwidth ÷ bytes per token)</text>`,
        ...parts,
        `</svg>`,
        ""
    ].join("\n");
}
