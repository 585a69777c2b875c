import fs from "node:fs/promises";
import {readGgufHeader, type GgufFileInfo} from "./ggufHeader.js";
import {ModelFileError} from "../errors.js";
import {tensorByteSize} from "./ggmlTypeSizes.js";
import {GgufHeaderError, scanGgufHeader, type GgufScan} from "./scanGgufHeader.js";
import {checkLlamaMetadata} from "./validateLlamaMetadata.js";
import {statModelFile} from "./statModelFile.js";
import {checkExpertsUsed, expertCountsOf, type ExpertsUsed} from "./expertsUsed.js";

/**
 * Checks a GGUF file with node-llama-cpp's pure-JS reader before native code sees it: llama.cpp
 * aborts the whole process on many malformed files, so everything that can be checked from the
 * header is checked here, and each problem becomes one sentence the user can act on.
 */
// The architectures a Mixtral file can declare: llama.cpp converts Mixtral as "llama" with experts.
const supportedArchitectures = new Set(["llama"]);
const maxTensorCount = 100_000;
const maxDimension = 2 ** 40;

export type ValidatedGguf = {
    path: string,
    fileBytes: number,
    info: GgufFileInfo,
    /** the header as our own bounded reader saw it */
    scan: GgufScan,
    /** the experts a load routes each token to (--experts, else the file's own) */
    experts: ExpertsUsed
};

/** `expertsUsed`: --experts, checked against the file (a usage error, exit 2) before the rest of it. */
export async function validateGgufFile(path: string, {expertsUsed}: {expertsUsed?: number} = {}): Promise<ValidatedGguf> {
    const hint = "Pass the path of a .gguf model file, or a catalog name such as instruct:Q4_K_M (`mixtral models`).";
    const stat = await statModelFile(path, hint);
    if (stat.size === 0) throw new ModelFileError(`${path} is empty (0 bytes), not a GGUF model file.`, {hint: "The download may have failed; delete it and pull the model again."});

    const magic = await readMagic(path);
    if (magic !== "GGUF")
        throw new ModelFileError(`${path} is not a GGUF model file (it does not start with the GGUF signature).`, {hint});

    // Our bounded reading first: node-llama-cpp's reader loops on some damaged headers.
    let scan: GgufScan;
    try {
        scan = await scanGgufHeader(path);
    } catch (error) {
        if (!(error instanceof GgufHeaderError)) throw error;
        const hint = "The file is incomplete or damaged; delete it and download it again.";
        // A length past the end is what a cut download looks like: that sentence, and where in the hint.
        if (error.pastEnd)
            throw new ModelFileError(`${path} has a damaged or truncated GGUF header.`, {hint: `${capitalized(error.message)}. ${hint}`});
        throw new ModelFileError(`${path} is corrupt: ${error.message}.`, {hint});
    }
    // Before the checks below, which refuse a dense model as "not Mixtral": --experts on one is a usage error.
    const experts = checkExpertsUsed(path, expertCountsOf(scan), expertsUsed);

    let info: GgufFileInfo;
    try {
        info = await readGgufHeader(path);
    } catch (error) {
        throw new ModelFileError(`${path} has a damaged or truncated GGUF header.`, {
            hint: "The file is incomplete or corrupt; delete it and download it again.",
            cause: error
        });
    }
    checkStructure(path, stat.size, info);
    checkLlamaMetadata(path, scan);
    return {path, fileBytes: stat.size, info, scan, experts};
}

function checkStructure(path: string, fileBytes: number, info: GgufFileInfo) {
    const corrupt = (what: string) => new ModelFileError(`${path} is corrupt: ${what}.`, {
        hint: "The file is incomplete or damaged; delete it and download it again."
    });
    if (info.version !== 2 && info.version !== 3) throw corrupt(`unsupported GGUF version ${info.version}`);
    const tensorCount = Number(info.tensorCount);
    if (!Number.isSafeInteger(tensorCount) || tensorCount <= 0 || tensorCount > maxTensorCount)
        throw corrupt(`its header claims ${String(info.tensorCount)} tensors`);

    // The reader pads a short file with nothing rather than failing, so a header that ends past
    // the end of the file (or yields nameless tensors) means the file was cut inside its header;
    // checked first, as the padded values (a file cut at 100 bytes reads as architecture "lla")
    // would otherwise be reported as if they were real.
    const tensors = info.tensorInfo ?? [];
    const dataStart = info.infoEndOffset;
    if (dataStart != null && (dataStart > fileBytes || tensors.some((tensor) => tensor.name === "")))
        throw new ModelFileError(`${path} has a damaged or truncated GGUF header.`, {
            hint: "The file is incomplete or corrupt; delete it and download it again."
        });

    const architecture = info.metadata?.general?.architecture;
    if (architecture == null)
        throw corrupt("it has no general.architecture key");
    if (!supportedArchitectures.has(String(architecture)))
        throw new ModelFileError(
            `${path} is a "${String(architecture)}" model; mixtral runs Mixtral-architecture (llama with experts) GGUF files only.`,
            {hint: "Use a Mixtral 8x7B GGUF file, e.g. `mixtral pull instruct:Q4_K_M`."}
        );

    if (dataStart == null || tensors.length !== tensorCount) throw corrupt("its tensor table could not be read");

    let dataEnd = dataStart;
    for (const tensor of tensors) {
        if (tensor.dimensions.length === 0 || tensor.dimensions.length > 4 ||
            tensor.dimensions.some((dimension) => Number(dimension) <= 0 || Number(dimension) > maxDimension))
            throw corrupt(`tensor ${tensor.name} has an impossible shape [${tensor.dimensions.join(", ")}]`);
        const bytes = tensorByteSize(tensor.ggmlType, tensor.dimensions);
        if (bytes == null) throw corrupt(`tensor ${tensor.name} has unknown type ${tensor.ggmlType}`);
        const end = Number(tensor.fileOffset) + bytes;
        if (!Number.isFinite(end) || Number(tensor.offset) < 0) throw corrupt(`tensor ${tensor.name} has an impossible offset`);
        if (end > dataEnd) dataEnd = end;
    }
    if (dataEnd > fileBytes)
        throw new ModelFileError(
            `${path} is truncated: its tensors need ${dataEnd} bytes but the file has ${fileBytes}.`,
            {hint: "The download did not finish; run the same `mixtral pull` again to resume it, or delete the file."}
        );
}

function capitalized(text: string): string {
    return text.charAt(0).toUpperCase() + text.slice(1);
}

async function readMagic(path: string): Promise<string> {
    const handle = await fs.open(path, "r");
    try {
        const buffer = Buffer.alloc(4);
        const {bytesRead} = await handle.read(buffer, 0, 4, 0);
        return buffer.subarray(0, bytesRead).toString("latin1");
    } finally {
        await handle.close();
    }
}
