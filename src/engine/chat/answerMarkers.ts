/** Markers in rendered chat text: where each earlier answer's exact tokens go, and the user's private-use characters escaped. */

/**
 * Stands for the answer at `index` in rendered text. Private-use characters never occur in
 * templates, but a user may type them: every U+E000/U+E001 in user or system text is escaped
 * (`escapeMarkers`) before rendering, so the only markers left in the output are ours.
 */
export function answerPlaceholder(index: number): string {
    return `\uE000${index}\uE001`;
}
/** A marker in rendered text: an answer (digits), or an escaped literal U+E000 ("a") or U+E001 ("b"). */
export const renderMarkerPattern = /\uE000(\d+|a|b)\uE001/g;
const literalOfEscape: Record<string, string> = {a: "\uE000", b: "\uE001"};

/** The text a marker stands for when it is an escaped literal; undefined for an answer placeholder. */
export function literalOfMarker(code: string): string | undefined {
    return literalOfEscape[code];
}

export function escapeMarkers(text: string): string {
    return text.replace(/[\uE000\uE001]/g, (character) => character === "\uE000" ? "\uE000a\uE001" : "\uE000b\uE001");
}
