/**
 * The engine's front door: what the rest of mixtral may use of the code that runs models through
 * node-llama-cpp (the only place that imports it). Importing this loads node-llama-cpp's JavaScript,
 * so commands import it lazily, when a model is about to run; what must work without it (doctor's
 * probe, --version, a GGUF's header) goes through ./inspect.ts. Everything else under engine/ is
 * private to it: see docs/development/architecture.md for the rooms inside.
 */
export {openModel, type ModelUse, type OpenModelOptions, type OpenedModel} from "./load/openModel.js";
export type {ThreadSwitchEvent} from "./native/threadPolicy.js";
export {localGenerator} from "./localGenerator.js";
export {openServingModel, type ServingModel, type ServingModelOptions, type ServingCallbacks} from "./batch/servingModel.js";
export {QueueFullError, SchedulerClosedError, type SchedulerResult, type SchedulerStats} from "./batch/batchScheduler.js";
export {promptTooLongError} from "./generation/promptSize.js";
export {createBenchEngine, type BenchEngineOptions} from "./bench/benchmark.js";
export type {LoraAdapter} from "./load/loraAdapters.js";
export {createChunkScorer} from "./score/chunkScorer.js";
