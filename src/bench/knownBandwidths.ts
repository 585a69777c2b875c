/**
 * Peak memory bandwidth of common devices in GB/s, from the vendors' data sheets. Decode speed is
 * bound by it, so it is the ceiling the roofline column compares against. Longer names come first
 * so that "RTX 4090 D" or "M2 Ultra" win over "RTX 4090" or "M2".
 */
const knownBandwidthsGBs: readonly {pattern: RegExp, name: string, gbs: number}[] = [
    // NVIDIA consumer
    {pattern: /rtx\s*5090/i, name: "RTX 5090", gbs: 1792},
    {pattern: /rtx\s*5080/i, name: "RTX 5080", gbs: 960},
    {pattern: /rtx\s*4090/i, name: "RTX 4090", gbs: 1008},
    {pattern: /rtx\s*4080/i, name: "RTX 4080", gbs: 717},
    {pattern: /rtx\s*4070\s*ti/i, name: "RTX 4070 Ti", gbs: 504},
    {pattern: /rtx\s*4060\s*ti/i, name: "RTX 4060 Ti", gbs: 288},
    {pattern: /rtx\s*3090\s*ti/i, name: "RTX 3090 Ti", gbs: 1008},
    {pattern: /rtx\s*3090/i, name: "RTX 3090", gbs: 936},
    {pattern: /rtx\s*3080\s*ti/i, name: "RTX 3080 Ti", gbs: 912},
    {pattern: /rtx\s*3080/i, name: "RTX 3080", gbs: 760},
    {pattern: /rtx\s*3060/i, name: "RTX 3060", gbs: 360},
    {pattern: /rtx\s*a6000/i, name: "RTX A6000", gbs: 768},
    {pattern: /rtx\s*6000\s*ada/i, name: "RTX 6000 Ada", gbs: 960},
    // NVIDIA data centre
    {pattern: /h200/i, name: "H200", gbs: 4800},
    {pattern: /h100.*pcie/i, name: "H100 PCIe", gbs: 2000},
    {pattern: /h100/i, name: "H100 SXM", gbs: 3350},
    {pattern: /a100.*40\s*gb/i, name: "A100 40GB", gbs: 1555},
    {pattern: /a100/i, name: "A100 80GB", gbs: 2039},
    {pattern: /l40s?/i, name: "L40", gbs: 864},
    {pattern: /a10g?\b/i, name: "A10", gbs: 600},
    {pattern: /\bl4\b/i, name: "L4", gbs: 300},
    {pattern: /\bt4\b/i, name: "T4", gbs: 320},
    {pattern: /v100/i, name: "V100", gbs: 900},
    // AMD
    {pattern: /mi300x/i, name: "MI300X", gbs: 5300},
    {pattern: /mi250/i, name: "MI250", gbs: 3277},
    {pattern: /rx\s*7900\s*xtx/i, name: "RX 7900 XTX", gbs: 960},
    {pattern: /rx\s*7900\s*xt/i, name: "RX 7900 XT", gbs: 800},
    {pattern: /rx\s*6900\s*xt/i, name: "RX 6900 XT", gbs: 512},
    // Apple silicon (unified memory)
    {pattern: /m[1-2]\s*ultra/i, name: "M1/M2 Ultra", gbs: 800},
    {pattern: /m3\s*ultra/i, name: "M3 Ultra", gbs: 819},
    {pattern: /m4\s*max/i, name: "M4 Max", gbs: 546},
    {pattern: /m[1-3]\s*max/i, name: "M1/M2/M3 Max", gbs: 400},
    {pattern: /m4\s*pro/i, name: "M4 Pro", gbs: 273},
    {pattern: /m3\s*pro/i, name: "M3 Pro", gbs: 150},
    {pattern: /m[1-2]\s*pro/i, name: "M1/M2 Pro", gbs: 200},
    {pattern: /apple\s*m4/i, name: "M4", gbs: 120},
    {pattern: /apple\s*m[2-3]/i, name: "M2/M3", gbs: 100},
    {pattern: /apple\s*m1/i, name: "M1", gbs: 68}
];

/** The bandwidth of the first known device among these names, or undefined. */
export function knownBandwidthFor(deviceNames: readonly string[]): {name: string, gbs: number} | undefined {
    for (const deviceName of deviceNames)
        for (const known of knownBandwidthsGBs)
            if (known.pattern.test(deviceName)) return {name: known.name, gbs: known.gbs};
    return undefined;
}
