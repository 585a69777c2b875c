// Preloaded with `node --import` (through NODE_OPTIONS): makes any import of node-llama-cpp fail,
// so a test can prove that a command path never loads the native engine.
import {register} from "node:module";

register(new URL("./forbidNodeLlamaCppHooks.mjs", import.meta.url));
