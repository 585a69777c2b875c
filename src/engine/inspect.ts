/**
 * The engine's light door: what can be known without loading a model, and without importing
 * node-llama-cpp until it is called (doctor must explain a broken install; `--version` and a
 * GGUF's header must not pay for the engine). Models run through ./index.ts.
 */
export {probeBackends} from "./native/probeBackends.js";
export {engineVersions, type EngineVersions} from "./native/engineVersions.js";
export {readGgufHeader, type GgufFileInfo} from "./load/readGgufHeader.js";
