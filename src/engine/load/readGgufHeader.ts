import type {GgufFileInfo} from "node-llama-cpp";

export type {GgufFileInfo};

/**
 * node-llama-cpp's pure-JS GGUF reader (no native code involved): the header, metadata and tensor
 * table of a local file, without warnings on the console. node-llama-cpp is imported when a file
 * is read, so the commands that only look at files (doctor, pull, models) do not load it first.
 */
export async function readGgufHeader(path: string): Promise<GgufFileInfo> {
    const {readGgufFileInfo} = await import("node-llama-cpp");
    return readGgufFileInfo(path, {sourceType: "filesystem", logWarnings: false, spliceSplitFiles: false});
}
