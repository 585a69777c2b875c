import {GiB, MiB} from "./byteSizes.js";
import {mixtral8x7b} from "./mixtralShape.js";

/**
 * Every hardware threshold the planner uses, in one place. They are estimates chosen to be on the
 * safe side: a plan that is a little too modest loads, one that is too bold fails after a long load.
 */

/** The context the plan aims for when the user does not say: room for a long chat, 1 GiB of KV cache. */
export const defaultPlanContextSize = 8192;

/** Kept free on every GPU: the driver's context, cuBLAS/Metal workspaces, a desktop's framebuffers. */
export const gpuReserveBytes = 1 * GiB;

/** From this much unified memory on, macOS gives the GPU 3/4 of it instead of 2/3. */
export const metalLargeMemoryBytes = 36 * GiB;

/**
 * How much of a Mac's unified memory the GPU may wire by default (Metal's
 * recommendedMaxWorkingSetSize): 2/3 below 36 GiB — 21.3 GiB of a 32 GiB Mac — and 3/4 from
 * 36 GiB. The rest stays with macOS and the CPU side. A user may raise it with
 * `sudo sysctl iogpu.wired_limit_mb=<MiB>` (macOS 14+); a real probe then reports the raised
 * figure as the GPU's memory, and the plan follows it. Used where a Mac is simulated.
 */
export function metalWorkingSetBytes(unifiedBytes: number): number {
    return Math.floor(unifiedBytes * (unifiedBytes < metalLargeMemoryBytes ? 2 / 3 : 3 / 4));
}

/** The setting that raises the GPU's share of a Mac's memory, named in plans that hit it. */
export const metalWiredLimitSetting = "iogpu.wired_limit_mb";

/** RAM left to the OS and other programs: 10% of it, at least 2 GiB. */
export function ramHeadroomBytes(totalBytes: number): number {
    return Math.max(2 * GiB, 0.1 * totalBytes);
}

/**
 * Scratch memory of one evaluation (batch of 512): MoE intermediates and logits (≈256 MiB), plus
 * the attention scores llama.cpp materialises when flash attention is off — context × batch × 32
 * heads × 4 bytes. Counted on whichever side runs the layers; unless flash attention is surely on
 * (a quantized V cache needs it), it is assumed off, which keeps the estimate safe where "auto"
 * turns it off.
 */
export function computeBufferBytes(contextSize: number, flashAttention = false): number {
    return 256 * MiB + (flashAttention ? 0 : contextSize * 512 * mixtral8x7b.headCount * 4);
}

/**
 * When any layer runs on the CPU, every generated token reads its weights from RAM, so each extra
 * bit per weight costs speed while above Q5_K_M the quality gain is marginal. Plans that touch the
 * CPU therefore stop at this; a plan fully on the GPU takes the best that fits. `--quant` overrides.
 */
export const cpuQualityCeilingBitsPerWeight = 5.7;
