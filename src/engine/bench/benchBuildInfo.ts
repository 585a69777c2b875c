import fs from "node:fs/promises";
import path from "node:path";

/**
 * llama-bench stamps rows with llama_commit() and llama_build_number(), which node-llama-cpp does
 * not expose. Its prebuilt libllama-common keeps both as exported data symbols (LLAMA_COMMIT, a
 * char pointer, and LLAMA_BUILD_NUMBER, an int), so on Linux they are read from the ELF file
 * itself. Anything unexpected (another OS, a stripped build) yields undefined and the caller falls
 * back to the release tag: a wrong commit would be worse than a plainly named one.
 */
export type LlamaBuildInfo = {commit: string, number: number};

const sectionTypes = {rela: 4, dynsym: 11} as const;
const relativeRelocations = new Set([8 /* R_X86_64_RELATIVE */, 1027 /* R_AARCH64_RELATIVE */]);

type Section = {type: number, address: bigint, offset: number, size: number, link: number, entrySize: number};

export function readElfBuildInfo(file: Buffer): LlamaBuildInfo | undefined {
    // 64-bit little-endian ELF only (x64 and arm64 Linux, what the prebuilt binaries are).
    if (file.length < 64 || file.readUInt32BE(0) !== 0x7f454c46 || file[4] !== 2 || file[5] !== 1) return undefined;
    const sectionOffset = Number(file.readBigUInt64LE(0x28));
    const sectionSize = file.readUInt16LE(0x3a);
    const sectionCount = file.readUInt16LE(0x3c);
    const sections: Section[] = [];
    for (let i = 0; i < sectionCount; i++) {
        const at = sectionOffset + i * sectionSize;
        if (at + 64 > file.length) return undefined;
        sections.push({
            type: file.readUInt32LE(at + 4),
            address: file.readBigUInt64LE(at + 16),
            offset: Number(file.readBigUInt64LE(at + 24)),
            size: Number(file.readBigUInt64LE(at + 32)),
            link: file.readUInt32LE(at + 40),
            entrySize: Number(file.readBigUInt64LE(at + 56))
        });
    }
    const fileOffsetOf = (address: bigint): number | undefined => {
        const section = sections.find((s) => s.address !== 0n && address >= s.address && address < s.address + BigInt(s.size));
        return section == null ? undefined : section.offset + Number(address - section.address);
    };
    const cString = (at: number) => file.subarray(at, file.indexOf(0, at)).toString("latin1");

    const symbols = new Map<string, bigint>();
    for (const table of sections.filter((s) => s.type === sectionTypes.dynsym)) {
        const strings = sections[table.link];
        if (strings == null || table.entrySize < 24) continue;
        for (let at = table.offset; at + 24 <= table.offset + table.size; at += table.entrySize) {
            const name = cString(strings.offset + file.readUInt32LE(at));
            if (name === "LLAMA_COMMIT" || name === "LLAMA_BUILD_NUMBER") symbols.set(name, file.readBigUInt64LE(at + 8));
        }
    }
    const commitPointer = symbols.get("LLAMA_COMMIT");
    const numberAddress = symbols.get("LLAMA_BUILD_NUMBER");
    if (commitPointer == null || numberAddress == null) return undefined;

    // A pointer in a shared library is filled in at load time from a RELATIVE relocation's addend.
    let commitAddress: bigint | undefined;
    for (const table of sections.filter((s) => s.type === sectionTypes.rela && s.entrySize >= 24))
        for (let at = table.offset; at + 24 <= table.offset + table.size && commitAddress == null; at += table.entrySize)
            if (file.readBigUInt64LE(at) === commitPointer && relativeRelocations.has(Number(file.readBigUInt64LE(at + 8) & 0xffffffffn)))
                commitAddress = file.readBigInt64LE(at + 16);
    const pointerOffset = fileOffsetOf(commitPointer);
    if (commitAddress == null && pointerOffset != null) commitAddress = file.readBigUInt64LE(pointerOffset);
    const commitOffset = commitAddress == null ? undefined : fileOffsetOf(BigInt.asUintN(64, commitAddress));
    const numberOffset = fileOffsetOf(numberAddress);
    if (commitOffset == null || numberOffset == null) return undefined;
    const commit = cString(commitOffset);
    if (!/^[0-9a-f]{7,40}$|^unknown$/.test(commit)) return undefined;
    return {commit, number: file.readInt32LE(numberOffset)};
}

/** The prebuilt binaries' folder for this backend, as node-llama-cpp's optional dependencies lay it out. */
export async function readPrebuiltBuildInfo(nodeLlamaCppRoot: string, backend: string): Promise<LlamaBuildInfo | undefined> {
    if (process.platform !== "linux") return undefined;
    const suffix = backend === "cpu" ? "" : `-${backend}`;
    const name = `${process.platform}-${process.arch}${suffix}`;
    const library = path.join(nodeLlamaCppRoot, "..", "@node-llama-cpp", name, "bins", name, "libllama-common.so");
    try {
        return readElfBuildInfo(await fs.readFile(library));
    } catch {
        return undefined;
    }
}
