/**
 * Where every reader of GGUF headers in mixtral (validation, adapters, the benchmark's byte counts)
 * gets one: node-llama-cpp's pure-JS reader, reached through the engine's light door (the engine is
 * the only importer of node-llama-cpp, and the reader loads it only when a file is read). Its input
 * was scanned first by our own bounded reader (scanGgufHeader.ts), which trusts no length.
 */
export {readGgufHeader, type GgufFileInfo} from "../engine/inspect.js";
