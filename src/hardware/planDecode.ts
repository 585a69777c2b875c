import {decodeWeightBytes, mixtral8x7b, mixtralExpertsUsed} from "./mixtralShape.js";

/**
 * What one generated token reads under a plan, and the tok/s ceiling that follows: decode streams
 * every weight the token touches through the memory bus once, so tok/s ≤ bandwidth ÷ bytes. With a
 * mixture of experts that is the experts the router picks (`--experts N`, Mixtral's own 2 of 8):
 * one expert reads about 56% of the bytes two read, three 144%, four 188%. The K/V cache read per token
 * comes on top (it grows with the conversation) and is left out: these are weights only.
 */
export type PlanDecode = {
    expertsUsed: number,
    expertCount: number,
    /** Weight bytes per token, all of them, and the parts the GPU and the CPU (RAM) read. */
    bytesPerToken: number,
    gpuBytesPerToken: number,
    ramBytesPerToken: number
};

/** `gpuLayers` as the plan counts them: 32 blocks, then the output layer as the 33rd. */
export function planDecode(plan: {fileBytes: number, gpuLayers: number}, expertsUsed = mixtralExpertsUsed): PlanDecode {
    const bytes = decodeWeightBytes(plan.fileBytes, expertsUsed);
    const blocks = mixtral8x7b.blockCount;
    const gpuBlocks = Math.min(blocks, Math.max(0, plan.gpuLayers));
    const outputOnGpu = plan.gpuLayers > blocks;
    const gpuBytes = gpuBlocks * bytes.block + (outputOnGpu ? bytes.output : 0);
    // The input embeddings stay in RAM whatever the offload (llama.cpp keeps the lookup table there).
    const ramBytes = (blocks - gpuBlocks) * bytes.block + (outputOnGpu ? 0 : bytes.output) + bytes.embeddingRow;
    return {expertsUsed, expertCount: mixtral8x7b.expertCount, bytesPerToken: gpuBytes + ramBytes, gpuBytesPerToken: gpuBytes, ramBytesPerToken: ramBytes};
}

/**
 * The decode ceiling in tok/s for the bandwidths known (GB/s, 10^9 bytes/s): the GPU's and the RAM's
 * parts are read one after the other, so their times add. A part whose bandwidth is unknown is left
 * out, which still bounds from above; undefined when no part that reads bytes has a bandwidth.
 */
export function decodeCeilingTokensPerSecond(decode: PlanDecode, bandwidth: {gpuGBs?: number, ramGBs?: number}): number | undefined {
    let seconds = 0;
    if (decode.gpuBytesPerToken > 0 && bandwidth.gpuGBs != null) seconds += decode.gpuBytesPerToken / (bandwidth.gpuGBs * 1e9);
    if (decode.ramBytesPerToken > 0 && bandwidth.ramGBs != null) seconds += decode.ramBytesPerToken / (bandwidth.ramGBs * 1e9);
    return seconds > 0 ? 1 / seconds : undefined;
}
