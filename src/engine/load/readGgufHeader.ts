import {readGgufFileInfo, type GgufFileInfo} from "node-llama-cpp";

export type {GgufFileInfo};

/**
 * node-llama-cpp's pure-JS GGUF reader (no native code involved): the header, metadata and tensor
 * table of a local file, without warnings on the console.
 */
export function readGgufHeader(path: string): Promise<GgufFileInfo> {
    return readGgufFileInfo(path, {sourceType: "filesystem", logWarnings: false, spliceSplitFiles: false});
}
