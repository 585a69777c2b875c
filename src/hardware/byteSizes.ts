/**
 * Memory sizes as people type and read them. Memory is sold in binary units (a "24 GB" RTX 3090
 * has 24 GiB, a "64 GB" Mac 64 GiB), so a typed `24GB` means 24 × 1024³ bytes, and capacities are
 * shown in GiB. File sizes stay decimal, as Hugging Face shows them (models/formatBytes.ts).
 */
const unitPowers: Record<string, number> = {"": 0, b: 0, k: 1, kb: 1, kib: 1, m: 2, mb: 2, mib: 2, g: 3, gb: 3, gib: 3, t: 4, tb: 4, tib: 4};

/** `24GB`, `24 GiB`, `1.5T`, `512mb`, `25769803776` → bytes; undefined when it is not a size. */
export function parseByteSize(text: string): number | undefined {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
    if (match == null) return undefined;
    const power = unitPowers[(match[2] ?? "").toLowerCase()];
    if (power == null) return undefined;
    const bytes = Math.round(Number(match[1]) * 1024 ** power);
    return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

/** A memory capacity: `24 GiB`, `7.5 GiB`, `512 MiB`. */
export function formatMemory(bytes: number): string {
    if (Math.abs(bytes) < GiB) return `${Math.round(bytes / MiB)} MiB`;
    const gib = bytes / GiB;
    const rounded = Math.round(gib * 10) / 10;
    return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)} GiB`;
}
